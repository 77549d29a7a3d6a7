"""``tanya bench [--json] [--quick] [--growth N,...] [--out DIR]`` and
``tanya bench --soak [--minutes M]``: parse, run, print.

Only argparse is imported here; the benchmark and everything it measures load in the
handler, so registering the command costs the rest of the CLI nothing.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "bench", help="measure latency, memory, build cost and scale beside a LangChain baseline",
        description="Needs the `bench` extra (the baseline's LangChain packages, matplotlib). "
                    "The full run takes about 35 minutes on 2 cores; --quick a few.")
    parser.add_argument("--json", action="store_true", help="print the results object")
    parser.add_argument("--quick", action="store_true", help="a smoke run with tiny counts")
    parser.add_argument("--out", type=Path, metavar="DIR",
                        help="write results.json, results.md and latency_vs_store_size.png "
                             "(with --soak: soak.json and soak_rss.png)")
    parser.add_argument("--growth", type=_sizes, metavar="N[,N...]",
                        help="build growth points in chunks (default 1000, about 5 minutes "
                             "on 2 cores; 10000 adds most of an hour)")
    parser.add_argument("--incremental", type=_incremental, metavar="BASE,ADDED",
                        help="add ADDED articles to an index of BASE articles and time it "
                             "beside the same articles alone (default 10000,100, about 4 "
                             "minutes; 0,0 skips)")
    parser.add_argument("--build-only", action="store_true",
                        help="only the index build and its growth (with --out: build.json "
                             "and build.md)")
    parser.add_argument("--answers-only", action="store_true",
                        help="only warm answer latency (reader on and off, the article and a "
                             "300-document archive) and the cold ask, a few minutes (with "
                             "--out: answers.json and answers.md)")
    parser.add_argument("--soak", action="store_true",
                        help="instead: resident memory of a live server under sustained load, "
                             "answering and then rejecting (429), with its slope per minute")
    parser.add_argument("--minutes", type=float,
                        help="with --soak: length of each of the two runs (default 20; the "
                             "first quarter, at most 5 minutes, is warm-up)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from assistant.errors import ConfigError

    if args.soak:
        if (args.quick or args.growth is not None or args.build_only or args.incremental
                or args.answers_only):
            raise ConfigError("--quick, --growth, --incremental, --build-only and "
                              "--answers-only do not go with --soak; a short soak is "
                              "--minutes 1")
        return run_soak_command(args)
    if args.minutes is not None:
        raise ConfigError("--minutes goes with --soak")
    from dataclasses import replace

    from assistant.commands.common import print_json, say
    from eval.bench.chart import write_chart
    from eval.bench.config import BenchConfig
    from eval.bench.report import markdown
    from eval.bench.runner import run_bench

    config = BenchConfig.quick_run() if args.quick else BenchConfig()
    if args.growth is not None:
        config = replace(config, growth_chunks=args.growth)
    if args.incremental is not None:
        config = replace(config, incremental_base_docs=args.incremental[0],
                         incremental_added=args.incremental[1])
    if args.answers_only:
        if args.build_only or args.growth is not None or args.incremental is not None:
            raise ConfigError("--answers-only measures answers only: --build-only, --growth "
                              "and --incremental measure builds")
        return run_answers_only(args, config)
    if args.build_only:
        return run_build_only(args, config)
    results = run_bench(config, say)
    table = markdown(results)
    if args.out:
        _write(args.out, "results", results, table)
        write_chart(results, args.out / "latency_vs_store_size.png")
        say(f"bench: wrote {args.out}/results.json, results.md, latency_vs_store_size.png")
    if args.json:
        print_json(results)
    else:
        print(table)
        missed = [name for name, t in results["targets"].items() if t["met"] is False]
        print(f"\ntargets missed: {', '.join(missed)}" if missed else "\nall measured targets met")
    return 0


def run_build_only(args: argparse.Namespace, config: Any) -> int:
    from assistant.commands.common import print_json, say
    from eval.bench.report import growth_markdown
    from eval.bench.runner import run_build_bench

    results = run_build_bench(config, say)
    table = growth_markdown(results)
    if args.out:
        _write(args.out, "build", results, table)
        say(f"bench: wrote {args.out}/build.json, build.md")
    if args.json:
        print_json(results)
    else:
        print(table)
    return 0


def run_answers_only(args: argparse.Namespace, config: Any) -> int:
    from assistant.commands.common import print_json, say
    from eval.bench.report import answers_markdown
    from eval.bench.runner import run_answers_bench

    results = run_answers_bench(config, say)
    table = answers_markdown(results)
    if args.out:
        _write(args.out, "answers", results, table)
        say(f"bench: wrote {args.out}/answers.json, answers.md")
    if args.json:
        print_json(results)
    else:
        print(table)
    return 0


def _sizes(text: str) -> tuple[int, ...]:
    """``1000,10000`` -> (1000, 10000); each at least 1."""
    try:
        sizes = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of chunk counts: {text!r}") from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError("chunk counts must be positive, e.g. 1000,10000")
    return sizes


def _incremental(text: str) -> tuple[int, int]:
    """``10000,100`` -> (10000, 100): base articles, then articles added (0,0 skips)."""
    try:
        base, added = (int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not BASE,ADDED article counts: {text!r} (e.g. 10000,100)") from None
    if base < 0 or added < 0 or (base == 0) != (added == 0):
        raise argparse.ArgumentTypeError("BASE and ADDED are both positive, or 0,0 to skip")
    return base, added


def run_soak_command(args: argparse.Namespace) -> int:
    import tempfile

    from assistant.commands.common import print_json, say
    from assistant.errors import ConfigError
    from eval.bench.chart import write_soak_chart
    from eval.bench.report import soak_markdown
    from eval.bench.soak import SoakConfig, run_soak
    from eval.questionset import load_question_set

    minutes = 20.0 if args.minutes is None else args.minutes
    try:
        config = SoakConfig(minutes=minutes, warm_up_minutes=min(5.0, minutes / 4))
    except ValueError as exc:
        raise ConfigError(f"--soak: {exc}") from None
    questions = load_question_set("ukraina").questions
    with tempfile.TemporaryDirectory(prefix="tanya-soak-") as tmp:
        results = run_soak(Path(tmp), questions, config, say)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "soak.json").write_text(
            json.dumps(results, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        write_soak_chart(results, args.out / "soak_rss.png")
        say(f"bench: wrote {args.out}/soak.json, soak_rss.png")
    if args.json:
        print_json(results)
    else:
        print(soak_markdown(results))
    return 0 if results["met"] else 1


def _write(out: Path, stem: str, results: dict[str, Any], table: str) -> None:
    """``stem.json`` (the results) and ``stem.md`` (their table) in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{stem}.json").write_text(
        json.dumps(results, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    (out / f"{stem}.md").write_text(table + "\n", encoding="utf-8")
