"""The chat window (Gradio): a thin adapter over :class:`TanyaService`.

Everything shown is text: answers and questions are HTML-escaped before they reach the
chat (which has markdown rendering off), and the sources panel is HTML built here with
every piece of text escaped. A model, an article or a user can therefore never inject
markup, scripts, images or links; the one link the panel makes is a cited document's own
``url``, and only when it is an absolute http(s) address.

    demo = make_ui(service)
    demo.launch(css=CSS)            # or: gr.mount_gradio_app(app, demo, "/", css=CSS)
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import urlsplit

import gradio as gr

from assistant.api import bearer_matches, describe_error
from assistant.errors import BadQuestionError, TanyaError
from assistant.questions import check_readable
from assistant.service import TanyaService
from assistant.types import Answer, AnswerSpan, Citation, Passage

log = logging.getLogger("tanya")

EXAMPLES = [
    "What does Kyiv demand?",
    "What security guarantee does the US offer Ukraine?",
    "Apa tuntutan Kyiv?",
    "Mengapa perundingan damai macet?",
]
REFUSAL_TITLE = "Not answered by the article"
REFUSAL_MARK = "⚠"
UNEXPECTED = "the assistant failed unexpectedly; the details are logged"
_EMPTY_SOURCES = (
    '<div class="tanya-sources-empty">Sources appear here: each <b>[n]</b> in an answer is '
    "shown with its sentence highlighted inside its paragraph.</div>")

CSS = """
.tanya-sources { font-size: 0.95rem; line-height: 1.45; }
.tanya-sources ol { list-style: none; padding: 0; margin: 0; }
.tanya-cite { border: 1px solid var(--border-color-primary); border-radius: 8px;
  padding: 0.6rem 0.75rem; margin-bottom: 0.6rem; }
.tanya-cite-head { display: flex; gap: 0.5rem; align-items: baseline; flex-wrap: wrap;
  font-weight: 600; margin-bottom: 0.35rem; }
.tanya-n { background: var(--color-accent); color: white; border-radius: 4px;
  padding: 0 0.35rem; font-variant-numeric: tabular-nums; }
.tanya-where { font-weight: 500; color: var(--body-text-color-subdued); }
.tanya-doc { margin: 0 0 0.35rem; color: var(--body-text-color-subdued); overflow-wrap: anywhere; }
.tanya-doc-title { font-weight: 600; color: var(--body-text-color); }
.tanya-para { margin: 0; overflow-wrap: anywhere; }
.tanya-para mark { background: #fde68a; color: #111; padding: 0 0.1rem; border-radius: 2px; }
.tanya-para mark strong.tanya-span { background: #f59e0b; font-weight: 700; }
.tanya-status { margin: 0 0 0.6rem; color: var(--body-text-color-subdued); }
.tanya-refusal { border-left: 4px solid #d97706; background: rgba(217, 119, 6, 0.10);
  padding: 0.5rem 0.75rem; border-radius: 4px; margin-bottom: 0.6rem; }
.tanya-closest { border-style: dashed; }
.tanya-closest .tanya-n { background: var(--neutral-500); }
.tanya-sources-empty { color: var(--body-text-color-subdued); }
"""


def escape(text: str) -> str:
    """Text made inert for any HTML sink."""
    return html.escape(text, quote=True)


# -- rendering ---------------------------------------------------------------------------
def render_sources(answer: Answer) -> str:
    """The sources panel for ``answer``: one card per citation, or the refusal notice."""
    if answer.refused or not answer.citations:
        notice = (f'<div class="tanya-refusal" role="status"><strong>{escape(REFUSAL_TITLE)}.'
                  "</strong> Nothing in it answers this question, so nothing is cited.</div>")
        closest = answer.passages[0] if answer.passages else None
        card = _card("closest", closest, None, "tanya-closest") if closest else ""
        label = '<p class="tanya-status">Closest passage (not cited):</p>' if closest else ""
        return f'<div class="tanya-sources">{notice}{label}<ol>{card}</ol></div>'
    by_rank = {p.rank: p for p in answer.passages}
    cards = "".join(_card(f"[{c.n}]", by_rank.get(c.passage_rank), c, span=answer.answer_span)
                    for c in answer.citations)
    count = len(answer.citations)
    status = f"{count} sentence{'s' if count != 1 else ''} cited from the article"
    return (f'<div class="tanya-sources"><p class="tanya-status">{status}</p>'
            f"<ol>{cards}</ol></div>")


def _card(label: str, passage: Passage | None, citation: Citation | None,
          extra_class: str = "", span: AnswerSpan | None = None) -> str:
    source = citation or passage
    assert source is not None
    where = f"paragraph {source.paragraph}"
    if source.section:
        where = f"{source.section} · {where}"
    ident = f' id="tanya-cite-{citation.n}"' if citation else ""
    return (f'<li class="tanya-cite {extra_class}"{ident}>'
            f'<div class="tanya-cite-head"><span class="tanya-n">{escape(label)}</span>'
            f'<span class="tanya-where">{escape(where)}</span></div>'
            f"{_document_line(source)}"
            f'<p class="tanya-para">{_highlighted(passage, citation, span)}</p></li>')


def _document_line(source: Citation | Passage) -> str:
    """The cited article: its title (a link to its URL when that is http(s)), its date
    and its author, each escaped."""
    title = escape(source.title or source.doc_id)
    href = web_url(source.url)
    if href:
        title = (f'<a class="tanya-doc-link" href="{escape(href)}" target="_blank" '
                 f'rel="noopener noreferrer nofollow">{title}</a>')
    parts = [f'<span class="tanya-doc-title">{title}</span>']
    if source.published:
        parts.append(f'<span class="tanya-date">{escape(_date(source.published))}</span>')
    if source.author:
        parts.append(f'<span class="tanya-author">{escape(source.author)}</span>')
    return f'<div class="tanya-doc">{" · ".join(parts)}</div>'


def web_url(url: str) -> str:
    """``url`` when it is an absolute http(s) address (the only kind shown as a link),
    else "": ``javascript:``, ``data:`` and relative addresses never become links."""
    url = url.strip()
    if not url or any(c.isspace() or ord(c) < 32 for c in url):
        return ""
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    return url if parts.scheme.lower() in ("http", "https") and parts.hostname else ""


def _date(published: str) -> str:
    """The day of an ISO timestamp ("2024-03-05T08:30:00+07:00" -> "2024-03-05");
    anything else as given."""
    match = re.match(r"\d{4}-\d{2}-\d{2}(?=$|[T ])", published)
    return match.group(0) if match else published


def _quote(citation: Citation, span: AnswerSpan | None) -> str:
    """The quote in <mark>, with the reader's answer span inside it in <strong>."""
    inside = (span is not None and span.doc_id == citation.doc_id
              and citation.start <= span.start < span.end <= citation.end)
    if not inside:
        return f"<mark>{escape(citation.quote)}</mark>"
    assert span is not None
    a, b = span.start - citation.start, span.end - citation.start
    q = citation.quote
    return (f'<mark>{escape(q[:a])}<strong class="tanya-span">{escape(q[a:b])}</strong>'
            f"{escape(q[b:])}</mark>")


def _highlighted(passage: Passage | None, citation: Citation | None,
                 span: AnswerSpan | None = None) -> str:
    """The quote's paragraph, escaped, with the quoted sentence in <mark> (and the
    answer span in it in <strong>)."""
    if passage is None:
        return _quote(citation, span) if citation else ""
    if citation is None:
        return escape(passage.text)
    text = passage.text
    start = citation.start - passage.start
    if text[start:start + len(citation.quote)] != citation.quote:
        start = text.find(citation.quote)
    if start < 0:
        return _quote(citation, span)
    end = start + len(citation.quote)
    # A chunk may carry neighbouring paragraphs as context; show only the quote's own.
    first = text.rfind("\n", 0, start) + 1
    last = text.find("\n", end)
    last = len(text) if last < 0 else last
    return escape(text[first:start]) + _quote(citation, span) + escape(text[end:last])


def _message(role: str, text: str, refused: bool = False) -> dict[str, Any]:
    # A refusal is marked in the text itself (Gradio's titled "thought" box starts
    # collapsed, hiding the explanation); the sources panel adds a coloured notice.
    return {"role": role, "content": escape(f"{REFUSAL_MARK} {text}" if refused else text)}


# -- callbacks ---------------------------------------------------------------------------
Turns = list[dict[str, str]]
Shown = list[dict[str, Any]]
ChatOutputs = tuple[Shown, str, Turns, Shown, str]


def respond(service: TanyaService, question: str, turns: Turns, shown: Shown
            ) -> Iterator[ChatOutputs]:
    """Stream one answer into the chat.

    ``turns`` is the conversation as the service sees it, ``shown`` as the chat shows it
    (escaped); both live server-side in ``gr.State`` so requests stay small. Yields
    (chat, sources, turns, shown, input box).
    """
    if not (question or "").strip():
        yield shown, gr.skip(), turns, shown, ""
        return
    try:
        check_readable(question)  # before it is echoed: the window's JSON cannot carry it
    except BadQuestionError as exc:
        raise gr.Error(str(exc)) from None
    pending = [*shown, _message("user", question), {"role": "assistant", "content": "…"}]
    yield pending, '<p class="tanya-status">Searching the article…</p>', turns, shown, ""
    text = ""
    answer: Answer | None = None
    try:
        for kind, value in service.stream(question, turns):
            if kind == "delta":
                text += value
                pending[-1] = _message("assistant", text)
                yield pending, gr.skip(), turns, shown, ""
            else:
                answer = value
    except Exception as exc:
        message = _public_message(exc)
        # Put the question back so it can be edited, then say what went wrong.
        yield shown, _EMPTY_SOURCES, turns, shown, question
        raise gr.Error(message) from None
    assert answer is not None
    pending[-1] = _message("assistant", answer.answer, answer.refused)
    turns = [*turns, {"role": "user", "content": answer.question},
             {"role": "assistant", "content": answer.answer}]
    yield pending, render_sources(answer), turns, pending, ""


def _public_message(exc: Exception) -> str:
    """What the window may say about ``exc``; the log gets the details."""
    if not isinstance(exc, TanyaError):
        log.exception("chat window: unexpected error")
        return UNEXPECTED
    status, _, message = describe_error(exc)
    if status >= 500:
        log.warning("chat window: %s", exc)
    return message


def new_chat() -> ChatOutputs:
    return [], _EMPTY_SOURCES, [], [], ""


def _title(service: TanyaService) -> str:
    try:
        docs = service.manifest().documents.values()
    except TanyaError:
        return "the article"
    titles = sorted(d.title for d in docs)
    return titles[0] if len(titles) == 1 else f"{len(titles)} articles"


# -- the window --------------------------------------------------------------------------
def make_ui(service: TanyaService) -> gr.Blocks:
    """The chat window over ``service``; exposes ``ask`` for ``gradio_client``."""
    api_key = service.settings.api_key.encode()

    def chat(question: str, turns: Turns, shown: Shown) -> Iterator[ChatOutputs]:
        yield from respond(service, question, turns, shown)

    def ask(question: str, history: list[dict[str, str]] | None = None,
            request: gr.Request = None) -> dict[str, Any]:  # type: ignore[assignment]
        """Answer one question; returns the same object as POST /api/ask."""
        if api_key and not bearer_matches(_header(request, "authorization"), api_key):
            raise gr.Error("missing or wrong API key; send 'Authorization: Bearer <key>'")
        try:
            return service.ask(question, history or []).to_dict()
        except Exception as exc:
            raise gr.Error(_public_message(exc)) from None

    with gr.Blocks(title="Tanya", analytics_enabled=False) as demo:
        gr.HTML(f"<h1 style='margin:0'>Tanya</h1><p style='margin:0.25rem 0 0'>Ask about "
                f"<i>{escape(_title(service))}</i>, in English or Indonesian. Every answer "
                "quotes the article; the sources panel shows where.</p>")
        turns, shown = gr.State([]), gr.State([])
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=320):
                chatbot = gr.Chatbot(
                    label="Conversation", height=440, render_markdown=False,
                    sanitize_html=True, allow_tags=False, latex_delimiters=[],
                    buttons=["copy", "copy_all"], feedback_options=None,
                    elem_id="tanya-chat", placeholder="Ask a question about the article.")
                question = gr.Textbox(
                    label="Your question", placeholder="e.g. What does Kyiv demand?",
                    lines=1, max_lines=4, max_length=service.settings.max_question_chars,
                    submit_btn="Ask", elem_id="tanya-question", autofocus=True)
                with gr.Row():
                    clear = gr.Button("New chat", variant="secondary", size="sm",
                                      elem_id="tanya-new-chat")
                gr.Examples(EXAMPLES, inputs=question, label="Examples (English, Indonesian)")
            with gr.Column(scale=2, min_width=280):
                sources = gr.HTML(_EMPTY_SOURCES, label="Sources", show_label=True,
                                  container=True, elem_id="tanya-sources", padding=True)
        outputs = [chatbot, sources, turns, shown, question]
        question.submit(chat, [question, turns, shown], outputs, api_visibility="private",
                        show_progress="hidden")
        clear.click(new_chat, None, outputs, api_visibility="private", queue=False)
        chatbot.clear(new_chat, None, outputs, api_visibility="private", queue=False)
        gr.api(ask, api_name="ask")
    limit = service.settings.max_concurrent_requests
    demo.queue(default_concurrency_limit=2, max_size=limit if limit > 0 else None)
    return demo


def _header(request: gr.Request | None, name: str) -> str:
    headers: Sequence[Any] | Any = getattr(request, "headers", None) or {}
    return str(headers.get(name, "")) if hasattr(headers, "get") else ""
