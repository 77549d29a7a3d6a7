"""Where FacQA's training file sits beside a checkout (``../shared``): tests that rebuild
or match against it skip where a clone has no ``../shared`` beside it."""

from pathlib import Path

FACQA = Path(__file__).resolve().parents[3] / "shared" / "data" / "facqa" / "train.jsonl"
