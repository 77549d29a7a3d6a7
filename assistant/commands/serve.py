"""``tanya serve``: the chat window at ``/`` and the API for portals, in one process."""

from __future__ import annotations

import argparse
import os

from assistant.commands.common import add_store_options, say, settings_from
from assistant.errors import StoreUnavailableError, TanyaError
from assistant.service import TanyaService


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("serve", help="serve the chat window and the HTTP API")
    parser.add_argument("--host", default="127.0.0.1",
                        help="interface to listen on (default 127.0.0.1; 0.0.0.0 for all)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    parser.add_argument("--workers", type=int, default=1,
                        help="API worker processes; more than 1 needs TANYA_CHROMA_URL and "
                             "serves the API only")
    parser.add_argument("--root-path", help="path prefix when behind a reverse proxy, "
                                            "e.g. /tanya (default: TANYA_ROOT_PATH)")
    add_store_options(parser)
    parser.set_defaults(handler=run_serve)


def run_serve(args: argparse.Namespace) -> int:
    from assistant.server import check_workers, serve

    settings = settings_from(args, root_path=args.root_path)
    check_workers(settings, args.workers)  # before building anything
    service = TanyaService(settings)
    try:
        service.ensure_reader(notify=say)
    except TanyaError as exc:  # each answer then says so, with the fix
        say(f"warning: {exc}; serving anyway")
    try:
        service.ensure_index(notify=say)
        # An index built with another embedder would fail every request: refuse now.
        service.manifest()
    except StoreUnavailableError as exc:
        # A store that is down now may be back in a minute: serve, and let /readyz and
        # each request say 503 until it is (the service reconnects by itself).
        say(f"warning: {exc}; serving anyway (/readyz answers 503 until the store is back)")
    what = "chat window and API"
    if args.workers > 1:
        # Workers are fresh processes that read TANYA_*: hand them the flags too.
        for name in ("index", "embedder", "root_path"):
            os.environ[f"TANYA_{name.upper()}"] = str(getattr(settings, name))
        what = f"{args.workers} API workers, no chat window"
    say(f"Tanya on http://{args.host}:{args.port}{settings.root_path}/ ({what})")
    serve(settings, args.host, args.port, args.workers,
          service if args.workers == 1 else None)
    return 0
