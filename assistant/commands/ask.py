"""``tanya ask`` (one question) and ``tanya chat`` (a terminal conversation)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TextIO

from assistant.commands.common import add_store_options, print_json, say, settings_from
from assistant.errors import BadQuestionError
from assistant.questions import clean_question
from assistant.service import TanyaService
from assistant.settings import Settings
from assistant.types import Answer, Turn


def add_parsers(sub: argparse._SubParsersAction) -> None:
    ask = sub.add_parser("ask", help="answer one question with citations")
    ask.add_argument("question", help="the question, in English or Indonesian")
    ask.add_argument("--json", action="store_true", help="print the full answer object")
    _answer_options(ask)
    ask.set_defaults(handler=run_ask)
    chat = sub.add_parser("chat", help="a conversation in the terminal, with follow-ups")
    _answer_options(chat)
    chat.set_defaults(handler=run_chat)


def _answer_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--k", type=int, help="passages to retrieve (default 5)")
    parser.add_argument("--llm", help="answer with an LLM: openai:MODEL or ollama:MODEL")
    add_store_options(parser)


def _service(args: argparse.Namespace, settings: Settings | None = None) -> TanyaService:
    service = TanyaService(settings or settings_from(args, k=args.k, llm=args.llm))
    service.ensure_reader(notify=say)
    service.ensure_index(notify=say)
    return service


def format_answer(answer: Answer) -> str:
    """Answer text, then one line per citation with where it comes from."""
    lines = [answer.answer]
    if answer.citations:
        lines.append("")
        for c in answer.citations:
            where = f"{c.section}, paragraph {c.paragraph}" if c.section else (
                f"paragraph {c.paragraph}")
            lines.append(f"[{c.n}] {where} (chars {c.start}-{c.end}): {c.quote}")
    for warning in answer.warnings:
        lines.append(f"note: {warning}")
    return "\n".join(lines)


def run_ask(args: argparse.Namespace) -> int:
    # A question that cannot be asked is said so before a first run's set-up (index,
    # reader) spends seconds on it; the service checks again, with the settings' limit.
    settings = settings_from(args, k=args.k, llm=args.llm)
    clean_question(args.question, settings.max_question_chars)
    service = _service(args, settings)
    answer = service.ask(args.question, k=args.k)
    if args.json:
        print_json(answer.to_dict())
    else:
        print(format_answer(answer))
    return 0


def run_chat(args: argparse.Namespace) -> int:
    service = _service(args)
    return chat_loop(service, sys.stdin, sys.stdout, k=args.k)


def chat_loop(service: TanyaService, stdin: TextIO, stdout: TextIO, k: int | None = None,
              prompt: Callable[[], None] | None = None) -> int:
    """Read questions line by line; ``/new`` starts over, ``/quit`` or EOF ends."""
    history: list[Turn] = []
    stdout.write("Ask about the article (English or Indonesian). /new starts over, /quit ends.\n")
    while True:
        stdout.write("\nyou> ")
        stdout.flush()
        line = stdin.readline()
        if not line or line.strip() in ("/quit", "/exit"):
            stdout.write("\n")
            return 0
        if line.strip() == "/new":
            history = []
            stdout.write("(new conversation)\n")
            continue
        try:
            answer = service.ask(line, history, k=k)
        except BadQuestionError as exc:
            stdout.write(f"tanya> {exc}\n")
            continue
        stdout.write(f"tanya> {format_answer(answer)}\n")
        history += [Turn("user", answer.question), Turn("assistant", answer.answer)]
