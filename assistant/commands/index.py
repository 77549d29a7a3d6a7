"""``tanya index build`` and ``tanya index status``."""

from __future__ import annotations

import argparse
from pathlib import Path

from assistant.commands.common import add_store_options, make_service, print_json, say
from assistant.errors import CorpusError
from assistant.progress import ProgressBar
from index.chunking import ChunkerConfig
from index.documents import bundled_documents, load_corpus


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
    add_store_options(build)
    build.set_defaults(handler=run_build)
    status = commands.add_parser("status", help="what the index holds")
    status.add_argument("--json", action="store_true")
    add_store_options(status)
    status.set_defaults(handler=run_status)


def run_build(args: argparse.Namespace) -> int:
    if args.corpus:
        docs, problems = load_corpus(args.corpus)
        for problem in problems:
            say(f"skipped {problem}")
        if not docs:
            raise CorpusError("no usable documents in --corpus; nothing was changed")
    else:
        docs, problems = bundled_documents(), []
    if args.max_chars < 100:
        raise CorpusError("--max-chars must be at least 100")
    service = make_service(args)
    bar = ProgressBar("embedding")
    try:
        report = service.build(docs, rebuild=args.rebuild,
                               chunker=ChunkerConfig(max_chars=args.max_chars,
                                                     min_chars=max(0, args.min_chars)),
                               progress=bar)
    finally:
        bar.close()
    if not report.changed_anything:
        say(f"index {service.settings.index!r} is up to date "
            f"({len(report.unchanged)} documents unchanged; nothing embedded)")
    else:
        say(f"index {service.settings.index!r}: {len(report.added)} added, "
            f"{len(report.changed)} changed, {len(report.removed)} removed, "
            f"{len(report.unchanged)} unchanged; {report.chunks_embedded} chunks embedded "
            f"in {report.seconds:.1f}s")
    return 1 if problems else 0


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
    print("documents:")
    for doc in status["documents"]:
        print(f"  {doc['doc_id']} [{doc['lang']}] {doc['chunks']} chunks - {doc['title']}")
    return 0
