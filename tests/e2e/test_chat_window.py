"""The chat window in headless Chromium against a real `tanya serve` (default embedder)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.live_server import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.slow]

HOSTILE = "<img src=x onerror=alert(1)>"
PIXEL = "http://127.0.0.1:9/pixel.png"  # a markdown image that must not be fetched
TIMEOUT_MS = 30_000


@pytest.fixture
def open_page(browser: Any, e5_server: LiveServer) -> Iterator[Any]:
    """Open the chat window; pass ``width`` for a phone-sized viewport."""
    contexts: list[Any] = []

    def open_(width: int = 1280, height: int = 900) -> Any:
        context = browser.new_context(viewport={"width": width, "height": height})
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=e5_server.url)
        contexts.append(context)
        page = context.new_page()
        page.dialogs = []  # any alert() would land here
        page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
        page.goto(e5_server.url + "/")
        page.wait_for_selector("#tanya-question textarea", timeout=TIMEOUT_MS)
        return page

    yield open_
    for context in contexts:
        context.close()


def ask(page: Any, question: str) -> None:
    box = page.locator("#tanya-question textarea")
    box.fill(question)
    box.press("Enter")
    # The sources panel is filled by the final update, after the last streamed piece.
    page.wait_for_selector("#tanya-sources .tanya-cite", timeout=TIMEOUT_MS)


def test_answer_cites_the_budapest_sentence(open_page: Any, screenshots: Path) -> None:
    page = open_page()
    assert page.locator("button", has_text="Apa tuntutan Kyiv?").is_visible()
    ask(page, "What does Kyiv demand?")
    answer = page.locator("#tanya-chat [data-testid=bot]").last.inner_text()
    assert "[1]" in answer
    card = page.locator("#tanya-sources .tanya-cite", has=page.locator(
        "mark", has_text="Memorandum Budapest 1994"))
    assert card.count() == 1, "the Budapest sentence is highlighted in the sources"
    label = card.locator(".tanya-n").inner_text()  # e.g. "[1]"
    assert label in answer, "the card's number is a marker in the answer"
    assert "paragraph" in card.locator(".tanya-where").inner_text()
    page.screenshot(path=str(screenshots / "chat.png"), full_page=True)
    assert page.dialogs == []


def test_hostile_question_is_inert_text(open_page: Any) -> None:
    page = open_page()
    fetched: list[str] = []
    page.on("request", lambda request: fetched.append(request.url))
    ask(page, f"{HOSTILE} What does Kyiv demand? ![x]({PIXEL}) [link](javascript:alert(2))")
    assert page.dialogs == []
    assert page.locator('img[src="x"]').count() == 0
    assert page.locator(f'img[src="{PIXEL}"], a[href^="javascript"]').count() == 0
    assert PIXEL not in fetched
    user = page.locator("#tanya-chat [data-testid=user]").last
    assert HOSTILE in user.inner_text() and f"![x]({PIXEL})" in user.inner_text()
    assert user.is_visible()


def test_refusal_looks_different_from_an_answer(open_page: Any, screenshots: Path) -> None:
    page = open_page()
    ask(page, "What is the capital of Australia?")
    refusal = page.locator("#tanya-sources .tanya-refusal")
    assert refusal.is_visible() and "Not answered by the article" in refusal.inner_text()
    assert page.locator("#tanya-sources mark").count() == 0, "nothing is cited"
    bot = page.locator("#tanya-chat [data-testid=bot]").last
    assert bot.inner_text().startswith("⚠ The article does not say")
    assert "[1]" not in bot.inner_text()
    page.screenshot(path=str(screenshots / "chat-refusal.png"), full_page=True)


def test_keyboard_only_ask_copy_and_new_chat(open_page: Any) -> None:
    page = open_page()
    assert page.evaluate("document.activeElement.closest('#tanya-question') !== null")
    page.keyboard.type("Apa tuntutan Kyiv?")
    page.keyboard.press("Enter")
    page.wait_for_selector("#tanya-sources .tanya-cite", timeout=TIMEOUT_MS)
    answer = page.locator("#tanya-chat [data-testid=bot]").last.inner_text().strip()

    def focused_label() -> str:
        return str(page.evaluate("document.activeElement.getAttribute('aria-label') || ''"))

    for _ in range(10):  # back from the input to the last message's copy button
        page.keyboard.press("Shift+Tab")
        if focused_label() == "Copy message":
            break
    assert focused_label() == "Copy message"
    page.keyboard.press("Enter")
    assert page.evaluate("navigator.clipboard.readText()").strip() == answer

    for _ in range(20):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "tanya-new-chat":
            break
    page.keyboard.press("Enter")
    page.wait_for_function("!document.querySelector('#tanya-chat [data-testid=bot]')",
                           timeout=TIMEOUT_MS)
    assert page.locator("#tanya-sources .tanya-cite").count() == 0


def test_phone_width_keeps_input_and_sources_usable(open_page: Any, screenshots: Path) -> None:
    page = open_page(width=390, height=844)
    ask(page, "Apa tuntutan Kyiv?")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, "no sideways scroll"
    for selector in ("#tanya-question textarea", "#tanya-sources .tanya-cite"):
        element = page.locator(selector).first
        element.scroll_into_view_if_needed()
        assert element.is_visible()
        box = element.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    page.screenshot(path=str(screenshots / "chat-phone.png"), full_page=True)


def test_serving_process_stays_under_400_mb(e5_server: LiveServer) -> None:
    with httpx.Client(base_url=e5_server.url, timeout=30) as http:
        for question in ("What does Kyiv demand?", "Apa tuntutan Kyiv?",
                         "What does Moscow want?", "Siapa Friedrich Merz?") * 5:
            assert http.post("/api/ask", json={"question": question}).status_code == 200
    rss = e5_server.rss_mb()
    print(f"tanya serve RSS after browser sessions and 20 API requests: {rss:.0f} MB")
    assert rss < 400
