"""Which language a question is in: English, Indonesian, or something else."""

from __future__ import annotations

import re

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_ID = frozenset(
    [
        "yang",
        "apa",
        "apakah",
        "siapa",
        "bagaimana",
        "mengapa",
        "kenapa",
        "di",
        "ke",
        "dari",
        "dan",
        "untuk",
        "dengan",
        "tidak",
        "ini",
        "itu",
        "adalah",
        "menurut",
        "tentang",
        "berapa",
        "kapan",
        "mana",
        "bagi",
        "oleh",
        "akan",
        "ada",
        "saja",
        "dia",
        "mereka",
        "sebagai",
        "pada",
        "juga",
        "atau",
        "karena",
        "jika",
        "sudah",
        "belum",
        "bisa",
        "dapat",
        "harus",
        "tuntutan",
        "menuntut",
        "posisi",
        "soal",
        "wilayah",
        "jaminan",
        "keamanan",
        "perang",
        "bagaimanakah",
        "apakah",
        "siapakah",
        "lalu",
        "kalau",
        "kata",
        "artikel",
    ]
)
_EN = frozenset(
    [
        "the",
        "what",
        "who",
        "whom",
        "whose",
        "why",
        "how",
        "does",
        "do",
        "did",
        "is",
        "are",
        "was",
        "were",
        "of",
        "to",
        "in",
        "and",
        "about",
        "which",
        "when",
        "will",
        "would",
        "should",
        "could",
        "can",
        "be",
        "been",
        "has",
        "have",
        "had",
        "it",
        "its",
        "they",
        "them",
        "their",
        "he",
        "she",
        "his",
        "her",
        "this",
        "that",
        "these",
        "those",
        "for",
        "with",
        "on",
        "at",
        "by",
        "from",
        "as",
        "not",
        "according",
        "article",
        "say",
        "says",
    ]
)


def detect_language(text: str) -> str:
    """``en``, ``id`` or ``other`` (other scripts, or no recognisable words)."""
    words = [w.lower() for w in _WORD.findall(text)]
    if not words:
        return "other"
    latin = sum(1 for w in words if w.isascii())
    if latin < len(words) / 2:
        return "other"
    id_hits = sum(1 for w in words if w in _ID)
    en_hits = sum(1 for w in words if w in _EN)
    if id_hits == en_hits == 0:
        return "en"
    return "id" if id_hits > en_hits else "en"
