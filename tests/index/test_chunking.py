import itertools
import re

import pytest

from index.chunking import ChunkerConfig, chunk_document, paragraph_spans, split_sentences
from index.documents import Document


def test_offsets_round_trip_on_the_article(article):
    chunks = chunk_document(article)
    assert chunks, "the article produced no chunks"
    for chunk in chunks:
        assert article.text[chunk.start : chunk.end] == chunk.text
        for sentence in chunk.sentences:
            assert article.text[sentence.start : sentence.end] == sentence.text
            assert chunk.start <= sentence.start < sentence.end <= chunk.end


def test_headings_become_sections_not_passages(article):
    chunks = chunk_document(article)
    headings = [
        "Apa yang ditawarkan AS",
        "Posisi Ukraina: keamanan — ya, kompromi — tidak",
        "Peran Eropa: jaminan tanpa otonomi",
        "Moskwa: soal teritorial sebagai titik pemblokiran",
    ]
    assert [c.text for c in chunks if c.text in headings] == []
    sections = list(dict.fromkeys(c.section for c in chunks))
    assert sections == ["", *headings]
    kyiv = next(c for c in chunks if "Memorandum Budapest" in c.text)
    assert kyiv.section == "Posisi Ukraina: keamanan — ya, kompromi — tidak"


def test_chunks_cover_every_paragraph_exactly_once(article):
    chunks = chunk_document(article, ChunkerConfig(max_chars=150))  # forces splits
    spans = paragraph_spans(article)
    assert max(c.paragraph for c in chunks) == len(spans) == 24
    for number, (start, end) in enumerate(spans, start=1):
        parts = [c for c in chunks if c.paragraph == number]
        assert parts, f"paragraph {number} lost"
        joined = " ".join(c.text for c in parts)
        assert re.sub(r"\s+", " ", joined) == re.sub(r"\s+", " ", article.text[start:end])
        # in order, no overlap
        for a, b in itertools.pairwise(parts):
            assert a.end <= b.start
    assert len({c.chunk_id for c in chunks}) == len(chunks)


def test_long_paragraphs_split_on_sentence_boundaries(article):
    chunks = chunk_document(article, ChunkerConfig(max_chars=150))
    split = [c for c in chunks if c.paragraph == 6]
    assert len(split) > 1
    for chunk in split:
        assert chunk.text[-1] in '.!?"”' or chunk.text.endswith("...")


def test_sentence_splitter_keeps_quotes_and_abbreviations():
    text = 'Dr. Smith tiba. "Rusia menginginkan apa... Kita tahu," kata dia. Lalu pergi.'
    got = [s.text for s in split_sentences(text)]
    assert got == ["Dr. Smith tiba.", '"Rusia menginginkan apa...', 'Kita tahu," kata dia.',
                   "Lalu pergi."]


@pytest.mark.parametrize("text", ["# Judul\n\nParagraf satu.\n\n## Bagian\n\nParagraf dua."])
def test_markdown_headings_and_blank_line_paragraphs(text):
    doc = Document("md", "Judul", "id", text, "x.md")
    chunks = chunk_document(doc)
    assert [(c.section, c.text) for c in chunks] == [
        ("Judul", "Paragraf satu."), ("Bagian", "Paragraf dua.")]
