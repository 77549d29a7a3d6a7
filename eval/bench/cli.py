"""``tanya bench [--json] [--quick] [--out DIR]``: parse, run, print.

Only argparse is imported here; the benchmark and everything it measures load in the
handler, so registering the command costs the rest of the CLI nothing.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "bench", help="measure latency, memory, build cost and scale beside a LangChain baseline",
        description="Needs the `bench` extra (the baseline's LangChain packages, matplotlib). "
                    "The full run takes about 9 minutes on 2 cores; --quick under one.")
    parser.add_argument("--json", action="store_true", help="print the results object")
    parser.add_argument("--quick", action="store_true", help="a smoke run with tiny counts")
    parser.add_argument("--out", type=Path, metavar="DIR",
                        help="write results.json, results.md and latency_vs_store_size.png")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from assistant.commands.common import print_json, say
    from eval.bench.chart import write_chart
    from eval.bench.config import BenchConfig
    from eval.bench.report import markdown
    from eval.bench.runner import run_bench

    config = BenchConfig.quick_run() if args.quick else BenchConfig()
    results = run_bench(config, say)
    table = markdown(results)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "results.json").write_text(
            json.dumps(results, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        (args.out / "results.md").write_text(table + "\n", encoding="utf-8")
        write_chart(results, args.out / "latency_vs_store_size.png")
        say(f"bench: wrote {args.out}/results.json, results.md, latency_vs_store_size.png")
    if args.json:
        print_json(results)
    else:
        print(table)
        missed = [name for name, t in results["targets"].items() if t["met"] is False]
        print(f"\ntargets missed: {', '.join(missed)}" if missed else "\nall measured targets met")
    return 0
