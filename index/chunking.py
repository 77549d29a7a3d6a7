"""Paragraph- and section-aware chunking with exact character offsets.

Every chunk and sentence keeps ``start``/``end`` offsets into its document's text,
so ``document.text[start:end] == text`` always holds and answers can quote exactly.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, replace

from index.documents import Document

# A sentence ends at . ! ? or … (plus closing quotes/brackets) before whitespace and a
# capital, digit or opening quote.
_SENTENCE_END = re.compile(r"""[.!?…]+["'”’)\]]*(?=\s+["'“‘(\[]?[A-Z0-9À-ÖØ-Þ])""")
_ABBREVIATIONS = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "st",
        "no",
        "vs",
        "etc",
        "jr",
        "sr",
        "dll",
        "dsb",
        "dst",
        "tsb",
        "yth",
        "bpk",
        "ibu",
        "sdr",
        "u.s",
        "e.g",
        "i.e",
    ]
)
_MD_HEADING = re.compile(r"^#{1,6}\s+")
_HEADING_MAX_CHARS = 90
_HEADING_MAX_WORDS = 12


@dataclass(frozen=True)
class Sentence:
    """One sentence with offsets into the document text, and its paragraph number."""

    start: int
    end: int
    text: str
    paragraph: int = 0


@dataclass(frozen=True)
class Chunk:
    """A passage: a paragraph, a run of its sentences when it is long, or a short paragraph
    joined to the one before it (``paragraph`` is the first, ``last_paragraph`` the last)."""

    chunk_id: str
    doc_id: str
    title: str
    lang: str
    section: str
    paragraph: int
    ordinal: int
    start: int
    end: int
    text: str
    sentences: tuple[Sentence, ...] = field(default_factory=tuple)
    last_paragraph: int = 0
    #: The document's metadata ("" when unknown), carried to citations.
    url: str = ""
    published: str = ""
    author: str = ""

    def embed_text(self, with_section: bool) -> str:
        """What the embedder sees: optionally the section heading as context."""
        return f"{self.section}\n{self.text}" if with_section and self.section else self.text


@dataclass(frozen=True)
class ChunkerConfig:
    """Chunker parameters; recorded in the index manifest."""

    max_chars: int = 800
    min_chars: int = 250
    section_context: bool = True

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class _Block:
    start: int
    end: int


def _blocks(text: str) -> list[_Block]:
    """Paragraph spans: blank-line separated blocks if the text uses them, else lines."""
    separator = re.compile(r"\n\s*\n") if re.search(r"\n\s*\n", text) else re.compile(r"\n")
    blocks, pos = [], 0
    for match in separator.finditer(text):
        blocks.append(_Block(pos, match.start()))
        pos = match.end()
    blocks.append(_Block(pos, len(text)))
    out = []
    for block in blocks:
        segment = text[block.start : block.end]
        stripped = segment.strip()
        if stripped:
            lead = len(segment) - len(segment.lstrip())
            out.append(_Block(block.start + lead, block.start + lead + len(stripped)))
    return out


def _is_heading(text: str, has_next: bool) -> bool:
    if _MD_HEADING.match(text):
        return True
    return (
        has_next
        and "\n" not in text
        and len(text) <= _HEADING_MAX_CHARS
        and len(text.split()) <= _HEADING_MAX_WORDS
        and not re.search(r"""[.!?…:;,"'”’]$""", text)
    )


def _is_abbreviation(text: str, end: int) -> bool:
    if text[end - 1] != "." or text[end - 2 : end] == "..":
        return False
    word = re.search(r"(\S+)\.$", text[:end])
    if not word:
        return False
    token = word.group(1).lower()
    return token in _ABBREVIATIONS or (len(token) == 1 and token.isalpha())


def split_sentences(text: str, offset: int = 0) -> list[Sentence]:
    """Sentences of ``text`` with offsets shifted by ``offset``; whitespace between them is
    not part of any sentence."""
    sentences, pos = [], 0
    for match in _SENTENCE_END.finditer(text):
        if _is_abbreviation(text, match.end()):
            continue
        sentences.append((pos, match.end()))
        pos = match.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    if pos < len(text):
        sentences.append((pos, len(text)))
    return [Sentence(offset + s, offset + e, text[s:e]) for s, e in sentences if text[s:e].strip()]


def _group(sentences: list[Sentence], max_chars: int) -> list[list[Sentence]]:
    """Greedy runs of whole sentences, each run at most ``max_chars`` (a longer single
    sentence stays whole: a quote must never be cut)."""
    groups: list[list[Sentence]] = [[]]
    for sentence in sentences:
        current = groups[-1]
        if current and sentence.end - current[0].start > max_chars:
            groups.append([sentence])
        else:
            current.append(sentence)
    return [g for g in groups if g]


def chunk_document(doc: Document, config: ChunkerConfig | None = None) -> list[Chunk]:
    """Split a document into chunks along paragraphs, sections and sentences."""
    config = config or ChunkerConfig()
    text = doc.text
    blocks = _blocks(text)
    chunks: list[Chunk] = []
    section, paragraph = "", 0
    for i, block in enumerate(blocks):
        body = text[block.start : block.end]
        if _is_heading(body, has_next=i + 1 < len(blocks)):
            section = _MD_HEADING.sub("", body).strip()
            continue
        paragraph += 1
        sentences = [replace(s, paragraph=paragraph) for s in split_sentences(body, block.start)]
        previous = chunks[-1] if chunks else None
        if (
            previous is not None
            and len(body) < config.min_chars
            and previous.section == section
            and block.end - previous.start <= config.max_chars
        ):
            # A short paragraph (a quote, a one-line follow-up) usually leans on the one
            # before it ("kata dia"), so it joins that chunk rather than standing alone.
            chunks[-1] = replace(
                previous,
                end=block.end,
                text=text[previous.start : block.end],
                sentences=previous.sentences + tuple(sentences),
                last_paragraph=paragraph,
            )
            continue
        for group in _group(sentences, config.max_chars):
            start, end = group[0].start, group[-1].end
            chunks.append(
                Chunk(
                    chunk_id=f"{doc.doc_id}:{len(chunks):04d}",
                    doc_id=doc.doc_id,
                    title=doc.title,
                    lang=doc.lang,
                    section=section,
                    paragraph=paragraph,
                    ordinal=len(chunks),
                    start=start,
                    end=end,
                    text=text[start:end],
                    sentences=tuple(group),
                    last_paragraph=paragraph,
                    url=doc.url,
                    published=doc.published,
                    author=doc.author,
                )
            )
    return chunks


def paragraph_spans(doc: Document) -> list[tuple[int, int]]:
    """Offsets of the non-heading paragraphs, in order (for coverage checks and the UI)."""
    blocks = _blocks(doc.text)
    return [
        (b.start, b.end)
        for i, b in enumerate(blocks)
        if not _is_heading(doc.text[b.start : b.end], has_next=i + 1 < len(blocks))
    ]
