"""``tanya check``: verify the installation, embedder, store and index; say what to fix."""

from __future__ import annotations

import argparse
import json

from assistant.commands.common import add_store_options, settings_from


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "check", help="verify installation, embedder, store and index; say what to fix",
        description="Exit code 0 when everything is usable, 1 otherwise.")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    add_store_options(parser)
    parser.set_defaults(handler=run_check)


def run_check(args: argparse.Namespace) -> int:
    from assistant.diagnostics import run_checks

    checks = run_checks(settings_from(args))
    ok = all(c.ok for c in checks)
    if args.json:
        print(json.dumps({"ok": ok, "checks": [c.to_dict() for c in checks]},
                         ensure_ascii=False, indent=2))
        return 0 if ok else 1
    for check in checks:
        verdict = "ok  " if check.ok else ("skip" if check.skipped else "FAIL")
        print(f"{verdict}  {check.name:<12} {check.detail}")
        for problem in check.problems:
            print(f"      - {problem.message}; fix: {problem.fix}")
    print("all checks passed" if ok else "some checks failed: run the fixes above, in order")
    return 0 if ok else 1
