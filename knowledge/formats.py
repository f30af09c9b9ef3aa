"""Readers of the binary and web formats, by file suffix and by a fetched page's content type.

HTML, PDF and Word documents are read from bytes (a page declares its own encoding; PDF and DOCX are
containers), each by its own reader; they all produce the same ``Parsed`` as markdown and text.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .errors import SkipFile
from .htmlpage import read_html
from .ingest import BYTES_SUFFIXES, _parse
from .pdffile import read_pdf
from .structure import Parsed
from .web import Fetched
from .wordfile import read_docx

BytesReader = Callable[[bytes], Parsed]
BYTES_READERS: dict[str, BytesReader] = {
    ".html": read_html,
    ".htm": read_html,
    ".pdf": read_pdf,
    ".docx": read_docx,
}
BYTES_MAX = 25 * 1024 * 1024  # PDFs and Word files carry images: a larger cap than text files

_CONTENT_TYPES = {
    "text/html": ".html",
    "application/xhtml+xml": ".html",
    "application/pdf": ".pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "text/markdown": ".md",
    "text/x-markdown": ".md",
    "text/plain": ".txt",
}


def fetched_suffix(got: Fetched) -> str:
    """Which reader a fetched page needs: its content type, else what the bytes look like."""
    if got.content_type in _CONTENT_TYPES:
        return _CONTENT_TYPES[got.content_type]
    head = got.content[:1024].lstrip()
    if head.startswith(b"%PDF-"):
        return ".pdf"
    if head.startswith(b"PK\x03\x04"):
        return ".docx"
    if head[:1] == b"<":
        return ".html"
    raise SkipFile(f"unsupported content type {got.content_type or '(none)'!r}")


def read_file(path: Path) -> Parsed:
    """An HTML, PDF or Word file; SkipFile with a one-line reason."""
    suffix = path.suffix.lower()
    reader = BYTES_READERS.get(suffix)
    if reader is None or suffix not in BYTES_SUFFIXES:
        raise SkipFile(f"unsupported file type {suffix or '(none)'!r}")
    try:
        size = path.stat().st_size
        if size == 0:
            raise SkipFile("empty file")
        if size > BYTES_MAX:
            raise SkipFile(f"too large ({size / 1_048_576:.2f} MB; the limit is {BYTES_MAX // 1_048_576} MB)")
        data = path.read_bytes()
    except OSError as exc:
        raise SkipFile(f"cannot read: {exc.strerror or exc}") from None
    return reader(data)


def parse_fetched(got: Fetched) -> tuple[Parsed, str, str | None]:
    """(structure, the suffix its format goes by, its text when it is a text format) of a fetched page."""
    suffix = fetched_suffix(got)
    if suffix in (".html", ".htm"):
        return read_html(got.content, url=got.url), suffix, None
    if suffix in BYTES_READERS:
        return BYTES_READERS[suffix](got.content), suffix, None
    try:
        text = got.content.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = got.content.decode("latin-1")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise SkipFile("empty page")
    return _parse(text, suffix), suffix, text
