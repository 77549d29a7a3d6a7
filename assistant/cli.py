"""The ``tanya`` command: parse, call the service, print. Errors become one line."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from assistant.commands import ask, check, index, reader, serve
from assistant.errors import TanyaError
from assistant.logs import setup_logging
from eval import commands as eval_commands
from eval.bench import cli as bench_command

log = logging.getLogger("tanya")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tanya",
        description="Answers questions about news articles, citing the exact sentences used.")
    sub = parser.add_subparsers(dest="command", required=True)
    index.add_parser(sub)
    ask.add_parsers(sub)
    serve.add_parser(sub)
    check.add_parser(sub)
    reader.add_parser(sub)
    eval_commands.add_parser(sub)
    bench_command.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging()
    try:
        return int(args.handler(args) or 0)
    except TanyaError as exc:
        print(f"tanya: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # `tanya ... | head` closed the pipe: stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except KeyboardInterrupt:
        print("tanya: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        log.exception("unexpected error in %s", args.command)
        print(f"tanya: unexpected error ({type(exc).__name__}); details are in the log "
              f"({_log_hint()})", file=sys.stderr)
        return 1


def _log_hint() -> str:
    from assistant.logs import log_path

    return str(log_path())


if __name__ == "__main__":
    sys.exit(main())
