"""The reader's answer span in the chat window: bold inside the cited quote's highlight,
escaped like every other text, and absent without a span; then the same in headless
Chromium against a real `tanya serve` with the reader on."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant.service import TanyaService
from assistant.types import Answer, AnswerSpan
from assistant.ui import render_sources
from index.embedders import DEFAULT_EMBEDDER
from tests.assistant.test_reader_service import ANSWERED
from tests.assistant.test_ui import citation, passage
from tests.support.live_server import LiveServer

TIMEOUT_MS = 30_000
BOLD = '<strong class="tanya-span">'

# Article text with markup and ampersands in both the quote and the span.
TEXT = "Before it. Led by <b>Jane & Joe</b> of R&D today. After it."
QUOTE = "Led by <b>Jane & Joe</b> of R&D today."
SPAN = "<b>Jane & Joe</b>"


def answer_with_span(span_text: str | None, doc_id: str = "d",
                     with_passage: bool = True) -> Answer:
    """An answer citing ``QUOTE`` from ``TEXT``, with the reader's span ``span_text``."""
    p = passage(TEXT)
    c = citation(QUOTE, p.start + TEXT.index(QUOTE))
    span = None
    if span_text is not None:
        start = c.start + QUOTE.index(span_text)
        span = AnswerSpan(span_text, doc_id, start, start + len(span_text), score=1.0)
    return Answer(question="q", answer=f"{span_text} [1]", refused=False, lang="en",
                  citations=[c], passages=[p] if with_passage else [], answer_span=span)


# -- rendering ---------------------------------------------------------------------------
@pytest.mark.parametrize("with_passage", [True, False], ids=["in-paragraph", "quote-only"])
def test_the_span_is_bold_inside_the_quotes_mark_and_escaped(with_passage: bool) -> None:
    rendered = render_sources(answer_with_span(SPAN, with_passage=with_passage))
    assert ('<mark>Led by <strong class="tanya-span">&lt;b&gt;Jane &amp; Joe&lt;/b&gt;'
            "</strong> of R&amp;D today.</mark>") in rendered
    assert rendered.count("tanya-span") == 1
    assert "<b>" not in rendered and "R&D" not in rendered, "article text stays escaped"
    if with_passage:
        assert rendered.count("Before it. <mark>") == 1


@pytest.mark.parametrize("answer", [
    answer_with_span(None),  # the reader off
    Answer(question="q", answer="The article does not say.", refused=True, lang="en",
           passages=[passage(TEXT)]),  # refused by the reader: no span, no citation
], ids=["reader-off", "refused"])
def test_no_bold_span_without_an_answer_span(answer: Answer) -> None:
    rendered = render_sources(answer)
    assert "tanya-span" not in rendered and "<strong class" not in rendered
    if answer.citations:
        assert "<mark>Led by &lt;b&gt;Jane &amp; Joe&lt;/b&gt; of R&amp;D today.</mark>" in rendered


def test_the_span_is_bold_only_in_the_quote_that_holds_it() -> None:
    text = "One sentence here. Jane leads it."
    p = passage(text)
    first = citation("One sentence here.", p.start, n=1)
    second = citation("Jane leads it.", p.start + text.index("Jane"), n=2)
    span = AnswerSpan("Jane", "d", second.start, second.start + 4, score=1.0)
    answer = Answer(question="q", answer="Jane [2]", refused=False, lang="en",
                    citations=[first, second], passages=[p], answer_span=span)
    card_1, card_2 = render_sources(answer).split('<li class="tanya-cite ')[1:]
    assert 'id="tanya-cite-1"' in card_1 and "tanya-span" not in card_1
    assert 'id="tanya-cite-2"' in card_2
    assert f"<mark>{BOLD}Jane</strong> leads it.</mark>" in card_2


def test_a_span_from_another_document_is_not_drawn() -> None:
    rendered = render_sources(answer_with_span(SPAN, doc_id="other"))
    assert "tanya-span" not in rendered and "<mark>Led by" in rendered


# -- in the browser ----------------------------------------------------------------------
QUESTION = ANSWERED[1]  # answered by the reader with a wide margin


@pytest.fixture(scope="module")
def reader_span(e5_service: TanyaService) -> AnswerSpan:
    """The span the service (e5, reader on) gives for ``QUESTION``; building the reader
    here also fills the shared cache before the server starts."""
    reader = TanyaService(e5_service.settings.with_(reader="on"), embedder=e5_service.embedder)
    answer = reader.ask(QUESTION)
    assert not answer.refused and answer.answer_span is not None
    return answer.answer_span


@pytest.fixture(scope="module")
def reader_server(tmp_path_factory: pytest.TempPathFactory, shared_cache: Path,
                  reader_span: AnswerSpan) -> Iterator[LiveServer]:
    """`tanya serve` with the default embedder and the reader on (shared model cache)."""
    env = {"TANYA_EMBEDDER": DEFAULT_EMBEDDER, "TANYA_READER": "on",
           "TANYA_CACHE": str(shared_cache)}
    server = LiveServer(tmp_path_factory.mktemp("reader-ui-home"), env=env).start(timeout=240)
    yield server
    server.stop()


@pytest.mark.browser
@pytest.mark.integration
@pytest.mark.slow
def test_the_window_shows_the_readers_span_bold_in_the_highlight(
        browser: Any, reader_server: LiveServer, reader_span: AnswerSpan) -> None:
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(reader_server.url + "/")
        box = page.locator("#tanya-question textarea")
        box.wait_for(timeout=TIMEOUT_MS)
        box.fill(QUESTION)
        box.press("Enter")
        # The sources panel is filled by the final update, after the last streamed piece.
        page.wait_for_selector("#tanya-sources .tanya-cite", timeout=TIMEOUT_MS)

        bold = page.locator("#tanya-sources strong.tanya-span")
        assert bold.count() == 1
        assert bold.text_content() == reader_span.text
        assert page.locator("#tanya-sources .tanya-cite mark strong.tanya-span").count() == 1
        bot = page.locator("#tanya-chat [data-testid=bot]").last.inner_text()
        assert bot.strip().startswith(reader_span.text), "the answer leads with the span"
    finally:
        context.close()
