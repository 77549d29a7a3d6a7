"""Minimal PDFs written by hand (no PDF library needed to make them).

Each page is a list of text lines drawn in Helvetica, top to bottom ("" leaves a blank
line), or None for a page with only a filled rectangle: no text layer, like a scan.
"""

from __future__ import annotations


def _string(text: str) -> str:
    return "(" + text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ")"


def _content(lines: list[str] | None) -> bytes:
    if lines is None:
        return b"0.5 g 72 500 300 200 re f"
    ops = ["BT /F1 11 Tf 14 TL 72 760 Td"]
    ops += [f"{_string(line)} Tj T*" if line else "T*" for line in lines]
    ops.append("ET")
    return "\n".join(ops).encode("cp1252")


def make_pdf(pages: list[list[str] | None], info: dict[str, str] | None = None) -> bytes:
    """A valid PDF 1.4 file: catalog, page tree, one font, the pages, an optional
    document-info dictionary (``{"Title": ..., "Author": ...}``), and its xref table."""
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"",  # the page tree, once the pages are numbered
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    kids = []
    for lines in pages:
        data = _content(lines)
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(data), data))
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
                       b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>"
                       % (len(objects)))
        kids.append(len(objects))
    refs = " ".join(f"{k} 0 R" for k in kids).encode()
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (refs, len(kids))
    trailer_info = b""
    if info:
        fields = " ".join(f"/{key} {_string(value)}" for key, value in info.items())
        objects.append(f"<< {fields} >>".encode("cp1252"))
        trailer_info = b" /Info %d 0 R" % len(objects)
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R%s >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, trailer_info, xref)
    return bytes(out)
