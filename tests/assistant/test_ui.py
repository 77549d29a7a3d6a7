"""The chat window's callbacks and rendering, without a browser (see tests/e2e for that)."""

from __future__ import annotations

import html
import itertools
from typing import Any

import gradio as gr
import pytest
from fastapi.testclient import TestClient

from assistant.server import create_app
from assistant.service import TanyaService
from assistant.types import Answer, Citation, Passage
from assistant.ui import (
    EXAMPLES,
    REFUSAL_MARK,
    REFUSAL_TITLE,
    make_ui,
    render_sources,
    respond,
)

HOSTILE = '<img src=x onerror=alert(1)><script>alert(2)</script> ![i](http://x/y.png)'


def passage(text: str, start: int = 100, rank: int = 1) -> Passage:
    return Passage(rank=rank, chunk_id=f"c{rank}", doc_id="d", title="T", section="Bagian <b>",
                   paragraph=7, start=start, end=start + len(text), text=text, score=0.9)


def citation(quote: str, start: int, n: int = 1, rank: int = 1) -> Citation:
    return Citation(n=n, doc_id="d", title="T", section="Bagian <b>", paragraph=7, quote=quote,
                    start=start, end=start + len(quote), score=0.9, passage_rank=rank)


def answer_with(text: str, quote: str) -> Answer:
    p = passage(text)
    offset = text.index(quote)
    return Answer(question="q", answer=f"A: {quote} [1]", refused=False, lang="en",
                  citations=[citation(quote, p.start + offset)], passages=[p])


def test_sources_highlight_the_quote_inside_its_paragraph() -> None:
    rendered = render_sources(answer_with("Kalimat satu. Kyiv menuntut X. Kalimat tiga.",
                                          "Kyiv menuntut X."))
    assert "Kalimat satu. <mark>Kyiv menuntut X.</mark> Kalimat tiga." in rendered
    assert ">[1]<" in rendered and "paragraph 7" in rendered
    assert "Bagian &lt;b&gt;" in rendered, "section text is escaped too"


def test_sources_escape_hostile_article_text() -> None:
    text = f"Before {HOSTILE} after."
    rendered = render_sources(answer_with(text, HOSTILE))
    assert "<img" not in rendered and "<script" not in rendered
    assert f"<mark>{html.escape(HOSTILE)}</mark>" in rendered


def test_sources_mark_the_quote_even_when_offsets_drift() -> None:
    p = passage("Satu. Dua tiga. Empat.")
    answer = Answer(question="q", answer="A [1]", refused=False, lang="en",
                    citations=[citation("Dua tiga.", start=0)], passages=[p])
    assert "Satu. <mark>Dua tiga.</mark> Empat." in render_sources(answer)


def test_sources_show_only_the_quotes_own_paragraph() -> None:
    rendered = render_sources(answer_with("Paragraf lain.\nKyiv menuntut X. Lanjut.\nSesudah.",
                                          "Kyiv menuntut X."))
    assert "<p class=\"tanya-para\"><mark>Kyiv menuntut X.</mark> Lanjut.</p>" in rendered
    assert "Paragraf lain" not in rendered and "Sesudah" not in rendered


def test_refusal_looks_different_from_an_answer() -> None:
    refused = Answer(question="q", answer="The article does not say.", refused=True,
                     lang="en", passages=[passage("Closest text.")])
    rendered = render_sources(refused)
    assert "tanya-refusal" in rendered and REFUSAL_TITLE in rendered
    assert "[1]" not in rendered and "<mark>" not in rendered
    assert "Closest text." in rendered


def run(service: TanyaService, question: str, turns: Any = None, shown: Any = None
        ) -> list[tuple[Any, ...]]:
    return list(respond(service, question, turns or [], shown or []))


def test_answers_stream_into_the_chat(hash_service: TanyaService) -> None:
    steps = run(hash_service, "What does Kyiv demand?")
    assert len(steps) > 3, "the answer is shown piece by piece"
    chat, sources, turns, shown, box = steps[-1]
    answer = hash_service.ask("What does Kyiv demand?")
    assert chat[-1] == {"role": "assistant", "content": html.escape(answer.answer)}
    assert chat == shown and box == ""
    assert turns == [{"role": "user", "content": answer.question},
                     {"role": "assistant", "content": answer.answer}]
    for c in answer.citations:
        assert f">[{c.n}]<" in sources and html.escape(c.quote) in sources
    growing = [step[0][-1]["content"] for step in steps[1:-1]]
    assert all(len(a) <= len(b) for a, b in itertools.pairwise(growing))


def test_follow_ups_carry_the_conversation(hash_service: TanyaService) -> None:
    *_, (_, _, turns, shown, _) = run(hash_service, "What does Kyiv demand?")
    *_, (chat, _, turns2, _, _) = run(hash_service, "And Moscow?", turns, shown)
    assert len(chat) == 4 and len(turns2) == 4
    assert turns2[:2] == turns


def test_questions_are_shown_as_text(hash_service: TanyaService) -> None:
    chat = run(hash_service, HOSTILE)[-1][0]
    assert chat[0] == {"role": "user", "content": html.escape(HOSTILE)}
    assert "<" not in chat[0]["content"]


def test_refusals_are_marked_in_the_chat(hash_service: TanyaService) -> None:
    settings = hash_service.settings.with_(refusal_threshold=1.5)
    refusing = TanyaService(settings, embedder=hash_service.embedder)
    chat, sources, *_ = run(refusing, "What does Kyiv demand?")[-1]
    assert chat[-1]["content"].startswith(f"{REFUSAL_MARK} The article does not say")
    assert "tanya-refusal" in sources


def test_bad_questions_restore_the_input_and_raise(hash_service: TanyaService) -> None:
    too_long = "Kyiv? " * 1000
    steps = respond(hash_service, too_long, [], [])
    next(steps)  # the pending question is shown first
    restored = next(steps)
    assert restored[0] == [] and restored[4] == too_long
    with pytest.raises(gr.Error, match="limit is"):
        next(steps)


def test_a_question_that_cannot_be_read_is_said_so_and_not_echoed(
        hash_service: TanyaService) -> None:
    steps = respond(hash_service, "Kyiv \ud800?", [], [])
    with pytest.raises(gr.Error, match="cannot be read: U\\+D800 at character 6"):
        next(steps)  # before anything is shown: the window's JSON cannot carry it


def test_empty_input_changes_nothing(hash_service: TanyaService) -> None:
    assert run(hash_service, "   ") == [([], gr.skip(), [], [], "")]


def test_window_exposes_only_ask_to_api_clients(hash_service: TanyaService) -> None:
    demo = make_ui(hash_service)
    public = {fn.api_name for fn in demo.fns.values() if fn.api_visibility == "public"}
    assert public == {"ask"}
    ask = next(fn.fn for fn in demo.fns.values() if fn.api_name == "ask")
    assert ask is not None
    result = ask("What does Kyiv demand?", None, None)
    assert result["citations"] and result["question"] == "What does Kyiv demand?"
    with pytest.raises(gr.Error):
        ask("", None, None)


def test_ask_endpoint_honours_the_api_key(hash_service: TanyaService) -> None:
    keyed = TanyaService(hash_service.settings.with_(api_key="k3y"),
                         embedder=hash_service.embedder)
    ask = next(fn.fn for fn in make_ui(keyed).fns.values() if fn.api_name == "ask")
    assert ask is not None

    class FakeRequest:
        def __init__(self, auth: str) -> None:
            self.headers = {"authorization": auth}

    with pytest.raises(gr.Error, match="API key"):
        ask("What does Kyiv demand?", None, FakeRequest("Bearer nope"))
    assert ask("What does Kyiv demand?", None, FakeRequest("Bearer k3y"))["citations"]


def test_page_serves_under_a_path_prefix(hash_service: TanyaService) -> None:
    settings = hash_service.settings.with_(root_path="/tanya")
    with TestClient(create_app(settings, hash_service), root_path="/tanya") as client:
        page = client.get("/tanya/")
        assert page.status_code == 200
        assert page.headers["content-security-policy"] == "frame-ancestors 'none'"
        assert client.get("/tanya/config").json()["root"].endswith("/tanya")
        assert client.get("/tanya/healthz").json() == {"status": "ok"}
        for example in EXAMPLES:
            assert example in page.text or example in client.get("/tanya/config").text


def test_unknown_api_paths_and_methods_answer_in_the_api_format_beside_the_window(
        hash_service: TanyaService) -> None:
    """With the chat window mounted at ``/`` (as served), a path under /api/ or /v1/
    that no route serves, or a method it does not take, still gets the API's error
    shape, not the window's ``{"detail": ...}``; the window and the API keep working."""
    from tests.assistant.test_api import assert_error

    with TestClient(create_app(hash_service.settings, hash_service)) as client:
        assert "/api/nothing" in assert_error(client.get("/api/nothing"), 404, "not_found")
        response = client.get("/api/ask")
        assert "use POST" in assert_error(response, 405, "method_not_allowed")
        assert response.headers["allow"] == "POST"
        assert_error(client.get("/v1/chat/completions"), 405, "method_not_allowed")
        assert_error(client.post("/v1/nothing/here", json={}), 404, "not_found")
        assert client.get("/").status_code == 200
        assert client.get("/v1/models").status_code == 200
        answer = client.post("/api/ask", json={"question": "What does Kyiv demand?"})
        assert answer.status_code == 200 and answer.json()["citations"]
