"""Build the question-language model: ``python -m assistant.language_train``.

Naive Bayes over the character 1-4-grams of each word, fitted on the project's training
split of FacQA (``assistant.reader.data.split_of``, by passage): its Indonesian questions
and the project's English translations of them (``assistant/reader/data``). No
randomness: the same data gives the same file. Its manifest records the data's hashes,
the settings and the errors on the dev split, in both languages: never fitted on, but
the n-gram length was chosen on it, and ``archive-dev`` is made from it; ``archive-test``
(the test split) is neither.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from assistant.language import MODEL_PATH, LanguageModel, grams
from assistant.reader import DEFAULT_FACQA
from assistant.reader.data import EXTRA_TRANSLATIONS, TRANSLATIONS, load_facqa

# Chosen on FacQA's dev split (1-3-grams: 1 error in 494; 1-4: none), with n-grams seen
# fewer than MIN_COUNT times left out to keep the file small.
LONGEST = 4
MIN_COUNT = 5
ALPHA = 0.5  # additive smoothing


def fit(rows: Iterable[tuple[str, str]]) -> dict[str, float]:
    """Per n-gram, log P(g | en) - log P(g | id): positive is evidence for English."""
    counts: dict[str, Counter[str]] = {"en": Counter(), "id": Counter()}
    for lang, text in rows:
        counts[lang].update(grams(text, LONGEST))
    vocabulary = sorted(g for g in counts["en"] | counts["id"]
                        if counts["en"][g] + counts["id"][g] >= MIN_COUNT)
    totals = {lang: sum(c[g] for g in vocabulary) + ALPHA * len(vocabulary)
              for lang, c in counts.items()}
    return {g: round(math.log((counts["en"][g] + ALPHA) / totals["en"])
                     - math.log((counts["id"][g] + ALPHA) / totals["id"]), 4)
            for g in vocabulary}


def build(facqa: Path, translations: Sequence[Path] = (TRANSLATIONS, EXTRA_TRANSLATIONS)
          ) -> dict[str, Any]:
    """The model file's contents: weights and manifest."""
    records = load_facqa(facqa, translations)
    train = [(r.lang, r.question) for r in records if r.split == "train"]
    dev = [(r.lang, r.question) for r in records if r.split == "dev"]
    for split, rows in (("training", train), ("dev", dev)):
        missing = [lang for lang in ("en", "id") if not any(ln == lang for ln, _ in rows)]
        if missing:
            raise ValueError(f"no {' or '.join(missing)} questions in the {split} split: "
                             "is this FacQA's train.jsonl?")
    weights = fit(train)
    model = LanguageModel(weights, LONGEST)
    errors = {lang: sum(model.detect(text) != lang for ln, text in dev if ln == lang)
              for lang in ("en", "id")}
    return {
        "format": 1,
        "longest": LONGEST,
        "weights": weights,
        "manifest": {
            "data": {p.name: _sha256(p) for p in (facqa, *translations)},
            "min_count": MIN_COUNT, "alpha": ALPHA,
            "train": dict(Counter(lang for lang, _ in train)),
            "dev": {lang: {"questions": sum(ln == lang for ln, _ in dev),
                           "errors": errors[lang]} for lang in ("en", "id")},
            "weights_sha256": weights_sha256(weights),
        },
    }


def weights_sha256(weights: dict[str, float]) -> str:
    """The manifest's hash of the weights: their canonical JSON."""
    text = json.dumps(weights, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m assistant.language_train",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--facqa", type=Path, default=DEFAULT_FACQA, help="FacQA train.jsonl")
    parser.add_argument("--out", type=Path, default=MODEL_PATH, help="the model file")
    args = parser.parse_args(argv)
    if not args.facqa.is_file():
        parser.error(f"{args.facqa}: no such file (FacQA's train.jsonl)")
    try:
        data = build(args.facqa)
    except (ValueError, KeyError, TypeError) as exc:  # not FacQA's records
        parser.error(f"{args.facqa}: cannot build from it ({type(exc).__name__}: {exc})")
    # Whole or not at all: the shipped model is the default target.
    temporary = args.out.with_name(f".{args.out.name}.tmp")
    temporary.write_text(json.dumps(data, ensure_ascii=False, sort_keys=True) + "\n",
                         encoding="utf-8")
    temporary.replace(args.out)
    dev = data["manifest"]["dev"]
    print(f"wrote {args.out}: {len(data['weights'])} n-grams; FacQA dev errors "
          f"en {dev['en']['errors']}/{dev['en']['questions']}, "
          f"id {dev['id']['errors']}/{dev['id']['questions']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
