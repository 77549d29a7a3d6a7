"""Off-topic questions: closer to general text than to anything indexed.

Similarity scores of one embedder sit in a narrow band (e5: about 0.73-0.94 here), so a
fixed threshold cannot tell "what's the weather today?" from a real question. Comparing
with a background of general sentences (``background.txt``: everyday topics in English
and Indonesian, none on the article's subject) can: a question whose best match in the
background beats its best match in the index is about something else.

The background vectors depend only on the embedder and the sentences. They are computed
once (during ``tanya index build``, or on the first question) and cached under
``TANYA_HOME``, never shipped: a 4-bit embedder's arithmetic differs slightly from one CPU
to the next, and the question vectors they are compared with are computed on this one.
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
    """The background for ``embedder``: cached, or embedded now (and cached)."""
    sentences = background_sentences()
    path = cache_dir / vectors_name(embedder, sentences)
    try:
        cached = np.load(path)
        if cached.shape == (len(sentences), embedder.dim):
            return Background(cached)
    except (OSError, ValueError, EOFError):
        pass  # not there yet, or a damaged file: embed again
    vectors = np.asarray(embedder.embed_passages(sentences), dtype=np.float32)
    _save(path, vectors)
    return Background(vectors)


def _save(path: Path, vectors: np.ndarray) -> None:
    """Write atomically; a read-only home only costs re-embedding next time."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".background-", suffix=".npy")
    except OSError:
        return
    try:
        with os.fdopen(fd, "wb") as handle:
            np.save(handle, vectors)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; it holds nothing secret
        os.replace(tmp, path)
    except OSError:
        Path(tmp).unlink(missing_ok=True)  # a full disk: leave no half-written file
