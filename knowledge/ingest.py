"""Reading source files into clean, chunked, stably-identified passages.

Everything here is pure (no store, no embeddings) so it can be tested and fuzzed on
its own: ``load_document`` turns a file into a ``Document`` or raises ``SkipFile``
with a one-line reason; ``chunk_document`` turns a document into ``Chunk``s whose ids
depend only on source and content, which is what makes re-ingesting idempotent.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .chunking import CHUNK_WEIGHT, Chunk, chunk_blocks, render, split_paragraph
from .errors import FrontMatterError, SkipFile
from .readers import TEXT_READERS, collapse, plain
from .structure import Block, Parsed
from .text import has_cjk, split_sentences, weight

if TYPE_CHECKING:
    from .web import Fetched

BYTES_SUFFIXES = (".html", ".htm", ".pdf", ".docx")  # read from bytes by knowledge/formats.py
SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", *BYTES_SUFFIXES)
MAX_BYTES = 5 * 1024 * 1024
GENERIC_HEADINGS = {"summary", "introduction", "links", "topics", "overview", "conclusion", "contents"}


@dataclass
class Document:
    source: str  # file name, the citation key
    path: Path
    title: str
    url: str | None
    date: str | None
    tags: list[str]
    text: str  # the blocks as readable text ("#" lines for sections); boilerplate removed
    raw: str  # the file as read, for verbatim-quote checks
    stripped: list[str] = field(default_factory=list)  # what was removed, one note per line
    blocks: list[Block] = field(default_factory=list)  # the structure every later stage uses
    location_kind: str = "section"  # what a citation's location is: a section path, or a PDF's page

    @property
    def plain(self) -> str:
        """The file's text with markup removed and whitespace collapsed (see ``readers.plain``)."""
        suffix = self.path.suffix.lower()
        if suffix in BYTES_SUFFIXES:  # ``raw`` is already the blocks' text
            return collapse(self.raw)
        return plain(self.raw, suffix)


# --- reading -----------------------------------------------------------------

def iter_files(paths: Iterable[Path]) -> Iterator[Path]:
    """Supported files under the given files/folders, sorted, hidden ones left out."""
    for p in paths:
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                if f.is_file() and f.suffix.lower() in SUPPORTED_SUFFIXES and not any(
                    part.startswith(".") for part in f.relative_to(p).parts
                ):
                    yield f
        else:
            yield p


def read_text(path: Path) -> str:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise SkipFile(f"cannot read: {exc.strerror or exc}") from None
    if size == 0:
        raise SkipFile("empty file")
    if size > MAX_BYTES:
        raise SkipFile(f"too large ({size / 1_048_576:.2f} MB; the limit is {MAX_BYTES // 1_048_576} MB)")
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        raise SkipFile(f"unsupported file type {path.suffix or '(none)'!r}")
    try:
        data = path.read_bytes()
    except OSError as exc:  # permissions, a file deleted mid-ingest, a device...
        raise SkipFile(f"cannot read: {exc.strerror or exc}") from None
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise SkipFile("not UTF-8 (UTF-16 text; save it as UTF-8)")
    if b"\x00" in data[:8192]:
        raise SkipFile("binary file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SkipFile(f"not UTF-8 (invalid byte at offset {exc.start}; save it as UTF-8)") from None
    if not text.strip():
        raise SkipFile("empty file")
    return text.replace("\r\n", "\n").replace("\r", "\n")


# --- documents ---------------------------------------------------------------

def _slug_title(url: str) -> str | None:
    slug = url.rstrip("/").rsplit("/", 1)[-1]
    slug = re.sub(r"\.(html?|php|aspx?)$", "", slug)
    words = [w for w in re.split(r"[-_]+", slug) if w]
    if len(words) < 2:
        return None
    small = {"a", "an", "the", "of", "on", "in", "to", "for", "and", "or"}
    titled = [w.upper() if w.lower() in {"ai", "ml", "llm", "llms", "nlp"} else w for w in words]
    return " ".join(
        w if (i and w.lower() in small) or w.isupper() else w[:1].upper() + w[1:] for i, w in enumerate(titled)
    )


def derive_title(meta: dict[str, object], text: str, url: str | None, fallback: str) -> str:
    """Front-matter title, else a specific heading opening the text, else a short first line, else the URL slug."""
    title = meta.get("title")
    if isinstance(title, str) and title.strip():
        return title.strip()
    for line in text.splitlines():
        s = line.strip()
        if not s:
            continue
        if not s.startswith("#"):
            break  # a heading after the opening text names a section, not the document
        heading = s.lstrip("#").strip()
        if heading and heading.lower() not in GENERIC_HEADINGS:
            return heading
    first = next((line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")), "")
    if first and weight(first) <= 100 and not re.search(r"[。.!！?？,，:：]$", first):
        return first
    if url and (slug := _slug_title(url)):
        return slug
    if first:
        sentence = split_sentences(first)[0] if split_sentences(first) else first
        sentence = sentence.rstrip("。.，,")
        limit = 30 if has_cjk(sentence) else 80
        return sentence if len(sentence) <= limit else sentence[:limit].rstrip() + "…"
    return fallback


def read(path: Path) -> Parsed:
    """Read one file into its structure; raise SkipFile with a one-line reason."""
    raw = read_text(path)
    return _parse(raw, path.suffix.lower())


def _parse(raw: str, suffix: str) -> Parsed:
    reader = TEXT_READERS.get(suffix)
    if reader is None:
        raise SkipFile(f"unsupported file type {suffix or '(none)'!r}")
    try:
        return reader(raw, suffix)
    except FrontMatterError as exc:
        raise SkipFile(str(exc)) from None


def load_document(path: Path) -> Document:
    """Read, parse and clean one file; raise SkipFile with a one-line reason."""
    suffix = path.suffix.lower()
    if suffix in BYTES_SUFFIXES:
        from .formats import read_file

        return document_from_parsed(read_file(path), source=path.name, path=path, raw=None)
    raw = read_text(path)
    return document_from_parsed(_parse(raw, suffix), source=path.name, path=path, raw=raw)


def load_fetched(source: str, url: str, got: Fetched) -> Document:
    """A fetched web page (HTML, PDF, DOCX, text) as a document named ``source``; SkipFile when unreadable."""
    from .formats import parse_fetched

    parsed, suffix, raw = parse_fetched(got)
    parsed.url = url
    return document_from_parsed(parsed, source=source, path=Path(source + suffix), raw=raw)


def document_from_parsed(parsed: Parsed, *, source: str, path: Path, raw: str | None) -> Document:
    """A reader's structure as a document; ``raw`` None (binary formats): the blocks' text stands for it."""
    if not parsed.blocks:
        raise SkipFile("no text left after removing boilerplate")
    text = render(parsed.blocks)
    long_blocks = sum(1 for b in parsed.blocks if weight(b.text) > 20 * CHUNK_WEIGHT)
    if long_blocks:
        parsed.notes.append(f"{long_blocks} very long paragraph(s), cut between sentences")
    title = parsed.title or derive_title({}, text, parsed.url, path.stem)
    if raw is None:
        raw = "\n\n".join(x for b in parsed.blocks for x in (b.question, b.text) if x)
    return Document(
        source=source,
        path=path,
        title=title,
        url=parsed.url,
        date=parsed.date,
        tags=list(parsed.tags),
        text=text,
        raw=raw,
        stripped=list(parsed.notes),
        blocks=parsed.blocks,
        location_kind=parsed.location_kind,
    )


def chunk_document(doc: Document, max_weight: int = CHUNK_WEIGHT) -> list[Chunk]:
    """Chunks of the document's blocks: within one section (and one FAQ question), ids = source + content hash."""
    return chunk_blocks(doc.source, doc.title, doc.url, doc.blocks, max_weight)


_split_paragraph = split_paragraph
