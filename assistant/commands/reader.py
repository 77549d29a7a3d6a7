"""``tanya reader train|check``: train the reader's adapter; check the shipped one."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from assistant.commands.common import print_json, say, settings_from
from assistant.errors import ConfigError
from assistant.reader import DEFAULT_FACQA


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("reader", help="train or check the reader (answer span model)")
    actions = parser.add_subparsers(dest="reader_command", required=True)
    train = actions.add_parser(
        "train", help="train the reader's adapter (fixed seeds; checkpoints; resumes)",
        description="Trains LoRA deltas and the span head on FacQA (with the project's "
                    "English translations) and the article's training set. Writes "
                    "adapter.safetensors and adapter.json (the manifest) into --out.")
    train.add_argument("--facqa", type=Path, default=DEFAULT_FACQA,
                       help=f"FacQA train.jsonl (default: {DEFAULT_FACQA})")
    train.add_argument("--out", type=Path, default=Path("reader-run"),
                       help="where checkpoints, the adapter and its manifest go")
    train.add_argument("--epochs", type=int, help="passes over the data (default 2)")
    train.add_argument("--seed", type=int, help="random seed (default 13)")
    train.add_argument("--layers", type=int, metavar="N",
                       help="keep the base's first N of 12 layers (default: all); a "
                            "shallower reader answers faster")
    train.add_argument("--swapped", type=float, metavar="SHARE",
                       help="share of questions that also get a same-passage negative, one "
                            "of their names swapped for one the passage never mentions "
                            "(default 0, as the shipped adapter was trained)")
    train.add_argument("--withheld", type=float, metavar="SHARE",
                       help="share of questions that also get their own passage with the "
                            "answer's sentence taken out, as a negative (default 0)")
    train.add_argument("--extra-english", action="store_true",
                       help="also train on the 517 English translations made after the "
                            "shipped adapter (every FacQA train question then has one)")
    train.add_argument("--teacher", type=Path, metavar="DIR",
                       help="also learn the start/end logits of the trained reader in DIR "
                            "(its adapter.safetensors and adapter.json), e.g. "
                            "assistant/reader for the shipped one (default: gold spans only)")
    train.add_argument("--distill", type=float, metavar="SHARE",
                       help="with --teacher, the teacher's share of the loss (default 0.5)")
    train.set_defaults(handler=run_train)
    check = actions.add_parser("check", help="check the shipped adapter against its manifest")
    check.add_argument("--json", action="store_true")
    check.set_defaults(handler=run_check)


def run_train(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from assistant.reader.convert import ensure_converted
    from assistant.reader.distill import load_teacher
    from assistant.reader.train import TrainConfig, train

    if not args.facqa.is_file():
        raise ConfigError(f"FacQA data not found at {args.facqa}; pass --facqa PATH")
    config = TrainConfig()
    if args.epochs is not None:
        config = replace(config, epochs=args.epochs)
    if args.seed is not None:
        config = replace(config, seed=args.seed)
    if args.layers is not None:
        if not 1 <= args.layers <= 12:
            raise ConfigError(f"--layers must be between 1 and 12, not {args.layers}")
        config = replace(config, adapter=replace(config.adapter, layers=args.layers))
    for name in ("swapped", "withheld"):
        share = getattr(args, name)
        if share is None:
            continue
        if not 0.0 <= share <= 1.0:
            raise ConfigError(f"--{name} must be between 0 and 1, not {share}")
        config = replace(config, **{name: share})
    if args.extra_english:
        config = replace(config, extra_english=True)
    if args.distill is not None:
        if args.teacher is None:
            raise ConfigError("--distill needs --teacher DIR (the reader to learn from)")
        if not 0.0 < args.distill <= 1.0:
            raise ConfigError(f"--distill must be above 0 and at most 1, not {args.distill}"
                              " (without --teacher, training learns from the gold spans "
                              "only)")
        config = replace(config, distill=args.distill)
    if args.teacher is not None:
        if args.teacher.resolve() == args.out.resolve():
            raise ConfigError(f"--teacher and --out are both {args.out}: the new adapter "
                              "would overwrite its teacher; train into another --out")
        load_teacher(args.teacher)  # a wrong directory fails now, not after the data
        config = replace(config, teacher=str(args.teacher))
    settings = settings_from(args)
    model_dir = ensure_converted(settings.cache_dir)
    if args.teacher is not None:
        load_teacher(args.teacher, model_dir)  # trained on this base?
    manifest = train(args.facqa, model_dir, args.out, config, log=say)
    say(f"adapter written to {args.out / 'adapter.safetensors'}; "
        f"copy it and adapter.json into assistant/reader/ to ship it")
    print(json.dumps(manifest["dev"]))
    return 0


def run_check(args: argparse.Namespace) -> int:
    from assistant.reader.adapter import check_shipped

    report = check_shipped()
    if args.json:
        print_json(report)
    else:
        say(f"adapter ok: sha256 {report['adapter_sha256'][:12]}, "
            f"{report['tensors']} tensors, {report['bytes']} bytes")
    return 0
