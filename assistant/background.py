"""Off-topic questions: closer to general text than to anything indexed.

Similarity scores of one embedder sit in a narrow band (e5: about 0.73-0.94 here), so a
fixed threshold cannot tell "what's the weather today?" from a real question. Comparing
with a background of general sentences (``background.txt``: everyday topics in English
and Indonesian, none on the article's subject) can: a question whose best match in the
background beats its best match in the index is about something else.

The background vectors depend only on the embedder and the sentences. The default
embedder's ship with the package (``background-<digest>.npy``, written by
``python -m assistant.background``); any other embedder's are computed once (during
``tanya index build``, or on the first question) and cached under ``TANYA_HOME``.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import numpy as np

from index.embedders import TanyaEmbeddings

BACKGROUND_PATH = Path(__file__).with_name("background.txt")


class Background:
    """Vectors of the background sentences, for one embedder."""

    def __init__(self, vectors: np.ndarray) -> None:
        self.vectors = vectors

    def best(self, question_vector: np.ndarray) -> float:
        """Similarity of the closest background sentence."""
        if not len(self.vectors):
            return -1.0
        return float((self.vectors @ question_vector).max())


def background_sentences() -> list[str]:
    lines = BACKGROUND_PATH.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip()]


def vectors_name(embedder: TanyaEmbeddings, sentences: list[str]) -> str:
    """File name of the vectors: changes with the embedder and with every sentence."""
    digest = hashlib.sha256("\n".join([embedder.spec, *sentences]).encode()).hexdigest()
    return f"background-{digest[:16]}.npy"


def load_background(embedder: TanyaEmbeddings, cache_dir: Path) -> Background:
    """The background for ``embedder``: shipped, cached, or embedded now (and cached)."""
    sentences = background_sentences()
    name = vectors_name(embedder, sentences)
    for path in (BACKGROUND_PATH.with_name(name), cache_dir / name):
        try:
            vectors = np.load(path)
        except (OSError, ValueError):
            continue  # not there, or a damaged file
        if vectors.shape == (len(sentences), embedder.dim):
            return Background(vectors)
    vectors = np.asarray(embedder.embed_passages(sentences), dtype=np.float32)
    _save(cache_dir / name, vectors)
    return Background(vectors)


def _save(path: Path, vectors: np.ndarray) -> None:
    """Write atomically; a read-only home only costs re-embedding next time."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".background-", suffix=".npy")
        with os.fdopen(fd, "wb") as handle:
            np.save(handle, vectors)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; it holds nothing secret
        os.replace(tmp, path)
    except OSError:
        pass


if __name__ == "__main__":
    # Regenerate the shipped vectors of the default embedder after editing the sentences:
    # write the new file first (errors surface), then remove the stale ones.
    from index.embedders import DEFAULT_EMBEDDER, make_embedder

    default = make_embedder(DEFAULT_EMBEDDER)
    target = BACKGROUND_PATH.with_name(vectors_name(default, background_sentences()))
    np.save(target, np.asarray(default.embed_passages(background_sentences()),
                               dtype=np.float32))
    for stale in BACKGROUND_PATH.parent.glob("background-*.npy"):
        if stale != target:
            stale.unlink()
    print(f"wrote {target}")
