"""``python -m eval.bench.fusions [--calls N]``: the reader's answer stage with the graph
optimisers ``assistant.reader.graph.DISABLED_OPTIMIZERS`` leaves out, and with
onnxruntime's defaults (README, "Speed and memory").

One process, one service over the 300-document bench archive (``eval.bench.warm``), the
two sessions of the same int8 graph swapped question by question, in alternating order:
the host's noise falls on both alike, which separate bench runs cannot promise. Prints
each session's answer-stage p50 and mean (ms) as JSON. About two minutes.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def compare(service: Any, questions: Sequence[Any], calls: int) -> dict[str, dict[str, float]]:
    """Answer-stage milliseconds per session, over ``calls`` new questions each."""
    from assistant.reader.runtime import open_session

    reader = service.reader()
    original = reader._session
    served = open_session(reader.graph_path)
    sessions = {"served": served,
                "onnxruntime defaults": open_session(reader.graph_path, disabled=())}
    times: dict[str, list[float]] = {name: [] for name in sessions}
    names = list(sessions)
    try:
        for i in range(calls):
            q = questions[i % len(questions)]
            for name in names if i % 2 else reversed(names):
                reader._session = sessions[name]
                # A new wording each time: no cached query vector (see eval.bench.soak).
                answer = service.ask(f"{q.question} ({i})")
                times[name].append(answer.timings_ms["answer"])
    finally:
        reader._session = original
    return {name: {"p50": round(statistics.median(t), 1), "mean": round(statistics.fmean(t), 1),
                   "n": len(t)} for name, t in times.items()}


def main(argv: list[str] | None = None) -> None:
    from eval.bench.warm import warm_archive_service
    from eval.questionset import load_question_set

    parser = argparse.ArgumentParser(prog="python -m eval.bench.fusions")
    parser.add_argument("--calls", type=int, default=300, help="questions per session")
    args = parser.parse_args(argv)
    if args.calls < 1:
        parser.error("--calls must be at least 1")
    questions = load_question_set("archive-dev").questions
    with tempfile.TemporaryDirectory(prefix="tanya-fusions-") as tmp:
        service = warm_archive_service(Path(tmp))
        print(json.dumps(compare(service, questions, args.calls), indent=2))


if __name__ == "__main__":
    main()
