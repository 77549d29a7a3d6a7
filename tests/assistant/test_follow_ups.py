"""Follow-ups: retrieval keeps the conversation's topic without losing a subject the
follow-up changes."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from assistant.service import TanyaService
from index.documents import Document
from index.embedders import HashEmbedder
from tests.support.settings import session_settings

# Bag-of-words texts (the fake embedder's): the first question shares more words with
# KYIV than the follow-up does with MOSCOW.
KYIV = "Kyiv will demand guarantees: the guarantees Kyiv will demand are written guarantees."
MOSCOW = "What Moscow will want is the occupied land."
FIRST = "What guarantees does Kyiv demand?"
FOLLOW_UP = "And what does Moscow want?"


class CountingEmbedder(HashEmbedder):
    """The fake embedder, counting the questions it embeds."""

    def __init__(self) -> None:
        super().__init__(64)
        self.questions: list[str] = []

    def embed_question(self, text: str) -> np.ndarray:
        self.questions.append(text)
        return super().embed_question(text)


def _service(home: Path) -> tuple[TanyaService, CountingEmbedder]:
    embedder = CountingEmbedder()
    service = TanyaService(session_settings(home=home, embedder="hash:64", reader="off"),
                           embedder=embedder)
    service.build([Document("kyiv", "Kyiv", "en", KYIV, "kyiv.txt"),
                   Document("moscow", "Moscow", "en", MOSCOW, "moscow.txt")])
    return service, embedder


def test_a_follow_up_that_changes_the_subject_retrieves_the_new_subject(
        tanya_home: Path) -> None:
    service, embedder = _service(tanya_home)
    joined = f"{FIRST} {FOLLOW_UP}"
    # The two questions joined, as the follow-up's standalone query, are about Kyiv...
    assert service.ask(joined).passages[0].doc_id == "kyiv"
    answer = service.ask(FOLLOW_UP, [{"role": "user", "content": FIRST}])
    assert answer.standalone_query == joined
    # ...but the follow-up is searched with its own words too, and finds Moscow's.
    assert answer.passages[0].doc_id == "moscow"
    assert FOLLOW_UP in embedder.questions


def test_the_follow_up_vector_is_the_mean_of_the_joined_query_and_the_question(
        tanya_home: Path) -> None:
    service, embedder = _service(tanya_home)
    joined = f"{FIRST} {FOLLOW_UP}"
    vector = service._query_vector(FOLLOW_UP, joined)
    mean = embedder.embed_question(joined) + embedder.embed_question(FOLLOW_UP)
    np.testing.assert_allclose(vector, mean / np.linalg.norm(mean), rtol=1e-6)
    # A question that is not a follow-up is embedded once, as itself.
    embedder.questions.clear()
    np.testing.assert_array_equal(service._query_vector(FIRST, FIRST),
                                  embedder.embed_question(FIRST))
    assert embedder.questions == [FIRST, FIRST]
