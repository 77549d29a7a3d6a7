"""Item 2 in a real browser: a document full of markup, quoted in the answer and shown in
the sources panel, stays text; nothing runs and nothing is fetched from anywhere else."""

from __future__ import annotations

from typing import Any

import pytest

from tests.reliability.hostile import MARKUP_QUESTION, PIXEL
from tests.support.live_server import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.slow]


def test_quoted_markup_is_inert_and_nothing_remote_is_fetched(
        browser: Any, hostile_server: LiveServer) -> None:
    context = browser.new_context()
    page = context.new_page()
    dialogs: list[str] = []
    requested: list[str] = []
    failed: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("request", lambda r: requested.append(r.url))
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400
            else None)
    try:
        page.goto(hostile_server.url + "/")
        box = page.locator("#tanya-question textarea")
        box.wait_for(timeout=30_000)
        box.fill(MARKUP_QUESTION)
        box.press("Enter")
        page.wait_for_selector("#tanya-sources .tanya-cite mark", timeout=30_000)
        page.wait_for_timeout(500)  # time for an onerror handler or an image load to fire

        answer = page.locator("#tanya-chat [data-testid=bot]").last.inner_text()
        highlighted = page.locator("#tanya-sources mark").first.inner_text()
        for shown in (answer, highlighted):
            assert "<script>alert('script')</script>" in shown, "the markup is shown as text"
            assert f"![piksel]({PIXEL})" in shown
        assert dialogs == []
        assert page.locator("#tanya-chat img, #tanya-sources img").count() == 0
        assert page.locator("#tanya-chat a, #tanya-sources a").count() == 0
        assert not page.evaluate(
            "[...document.scripts].some(s => s.textContent.includes(\"alert('\"))")
        elsewhere = [u for u in requested if not u.startswith((hostile_server.url, "data:"))]
        assert elsewhere == [], "the window fetches nothing from another origin"
        assert failed == [], "closing unused Gradio routes broke nothing the window uses"
    finally:
        context.close()
