"""Shared pieces of the CLI commands."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from assistant.service import TanyaService
from assistant.settings import Settings


def add_store_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--index", help="index name (default: TANYA_INDEX or 'default')")
    parser.add_argument("--embedder", help="e5-small-q4 (default), st:MODEL_OR_PATH, hash:DIM; "
                                           "any +jitter:SIGMA:SEED")


def settings_from(args: argparse.Namespace, **extra: Any) -> Settings:
    return Settings.from_env(index=getattr(args, "index", None),
                             embedder=getattr(args, "embedder", None), **extra)


def make_service(args: argparse.Namespace, **extra: Any) -> TanyaService:
    return TanyaService(settings_from(args, **extra))


def say(message: str) -> None:
    """Progress and notices go to stderr so stdout stays clean for --json."""
    print(message, file=sys.stderr, flush=True)


def print_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2))
