"""News pages as a browser saves them (``tests/index/data/``): the article inside a site's
menus, ads, related links, comments and cookie banner. Each page comes with phrases of
its article, which must be indexed, and of the site around it, which must not."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).parent / "data"


@dataclass(frozen=True)
class Page:
    file: str
    article: tuple[str, ...]
    boilerplate: tuple[str, ...]

    def raw(self) -> bytes:
        return (DATA / self.file).read_bytes()


# An Indonesian daily (UTF-8): metadata in <meta> tags and the byline, a canonical link
# beside an og:url with tracking parameters, ads between the article's paragraphs.
KOMPAS_LIKE = Page(
    "kompas-like.html",
    article=(
        "Pemerintah Ukraina menuntut jaminan keamanan yang mengikat secara hukum",
        "Memorandum Budapest 1994 menunjukkan bahwa janji politik saja tidak cukup",
        "\"Kami membutuhkan komitmen yang dapat ditegakkan, bukan sekadar kata-kata di atas "
        "kertas,\" kata seorang diplomat senior Ukraina kepada wartawan di ibu kota.",
        "Amerika Serikat menawarkan dukungan militer jangka panjang",
        "Moskwa menyatakan menolak gagasan itu.",
    ),
    boilerplate=(
        "cookie", "Beranda", "Olahraga", "Promo kartu kredit", "ADVERTISEMENT", "IKLAN",
        "Liburan hemat", "Iklan pintar", "Bagikan ke", "Baca juga", "Harga minyak",
        "Tim nasional", "Komentar", "budi_123", "tidak setuju", "Tulis komentar",
        "Dapatkan berita pilihan", "Hak cipta", "Kebijakan privasi", "dataLayer",
    ),
)

# An English site in windows-1252: metadata in JSON-LD, a relative canonical link, a
# sidebar of most-read stories, a Disqus thread and a newsletter prompt.
WIRE_LIKE = Page(
    "wire-like.html",
    article=(
        "Washington is prepared to guarantee Ukraine's security with weapons",
        "a binding commitment, ratified by parliaments",
        "Diplomats described the talks as \u201cdifficult but necessary\u201d",
        "a café-table proposal for monitors",
    ),
    boilerplate=(
        "cookies", "Accept all", "Subscribe", "Business", "Advertisement", "Refinance",
        "Most read", "recipes", "Stocks slide", "Morning Briefing", "jsmith", "propaganda",
        "All rights reserved",
    ),
)

PAGES = {"kompas-like": KOMPAS_LIKE, "wire-like": WIRE_LIKE}
