"""Stored chunks back into documents: lines in reading order, each with its section path and sentences.

Chunks from the structured readers carry ``section`` (the heading path, joined " › "), ``kind`` and
``question`` in their metadata and markup-free text; older chunks keep markdown headings ("## …")
inside their text and only the nearest heading in metadata. Both become the same ``Line`` list, so the
role extractor reads one shape whatever the ingest version.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..text import split_sentences

SECTION_SEP = " › "
_HEADING_RE = re.compile(r"^(#{1,6})\s*(.+?)\s*#*\s*$")
_LIST_RE = re.compile(r"^\s*(?:[-*•+]|\d{1,3}[.)、])\s+")


class ChunkLike(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def text(self) -> str: ...

    @property
    def metadata(self) -> dict[str, Any]: ...


@dataclass
class Sentence:
    source: str
    title: str
    url: str | None
    chunk_id: str
    position: int
    order: int  # reading order in the document
    text: str  # verbatim as stored
    line: int  # index of its line in the document
    section: tuple[str, ...]
    location: str | None = None  # where a citation points: the reader's (a PDF page), else the section path


@dataclass
class Line:
    source: str
    title: str
    url: str | None
    chunk_id: str
    position: int
    index: int
    text: str  # as stored (may keep markdown emphasis in older chunks)
    kind: str  # heading | paragraph | list_item | answer | quote | table | code | footnote
    section: tuple[str, ...]  # headings above; for a heading, the path ending in itself
    level: int = 0
    question: str | None = None
    sentences: list[Sentence] = field(default_factory=list)
    lead: str = ""  # emphasised words opening the line in the source (chunk metadata "leads")


@dataclass
class Document:
    source: str
    lines: list[Line]

    @property
    def sentences(self) -> list[Sentence]:
        return [s for ln in self.lines for s in ln.sentences]


def documents(chunks: Sequence[ChunkLike]) -> list[Document]:
    by_source: dict[str, list[ChunkLike]] = defaultdict(list)
    for c in chunks:
        by_source[str(c.metadata.get("source", ""))].append(c)
    return [_document(source, cs) for source, cs in sorted(by_source.items())]


def _document(source: str, chunks: list[ChunkLike]) -> Document:
    chunks = sorted(chunks, key=lambda c: int(c.metadata.get("position", 0)))
    lines: list[Line] = []
    seen: set[str] = set()  # overlapping chunks repeat lines
    seen_sentences: set[str] = set()
    order = 0
    # The document's title is its outermost heading (readers take a leading "# Title" out of the text).
    doc_title = str(chunks[0].metadata.get("title", "") or "").strip() if chunks else ""
    base: list[tuple[int, str]] = [(0, doc_title)] if doc_title else []
    stack = list(base)
    if doc_title:
        c0 = chunks[0]
        lines.append(Line(source, doc_title, str(c0.metadata.get("url") or "") or None, c0.id,
                          int(c0.metadata.get("position", 0)), 0, doc_title, "heading", (doc_title,), 0))
    for c in chunks:
        m = c.metadata
        title = str(m.get("title", "") or "")
        url = str(m.get("url") or "") or None
        pos = int(m.get("position", 0))
        meta_section = str(m.get("section") or "")
        question = str(m.get("question") or "") or None
        kind = str(m.get("kind") or "")
        chunk_location = str(m.get("location") or "") or None
        leads = [x for x in str(m.get("leads") or "").split("\n") if x.strip()]
        if meta_section:
            path = tuple(p.strip() for p in meta_section.split(SECTION_SEP) if p.strip())
            if doc_title and (not path or path[0] != doc_title):
                path = (doc_title, *path)
            # Headings are not in structured chunk text: open the ones this chunk enters.
            current = tuple(t for _, t in stack)
            common = 0
            while common < min(len(path), len(current)) and path[common] == current[common]:
                common += 1
            stack = stack[:common]
            for lvl in range(common, len(path)):
                stack.append((lvl + 1, path[lvl]))
                lines.append(Line(source, title, url, c.id, pos, len(lines), path[lvl], "heading",
                                  path[: lvl + 1], lvl + 1))
        elif len(stack) == len(base) and m.get("heading") and m.get("heading") != doc_title and not _HEADING_RE.match(
                c.text.lstrip().split("\n", 1)[0]):
            stack = [*base, (2, str(m.get("heading")))]  # an older chunk that starts mid-section
            lines.append(Line(source, title, url, c.id, pos, len(lines), stack[-1][1], "heading",
                              tuple(t for _, t in stack), 2))
        for s in _logical_lines(c.text, join=not meta_section):  # structured blocks are already unwrapped
            h = _HEADING_RE.match(s) if not meta_section else None
            if h:
                level, text = len(h.group(1)), h.group(2).strip()
                if text == doc_title and stack == base:
                    continue  # the title again, as the text's first heading
                while stack and stack[-1][0] >= level:
                    stack.pop()
                stack.append((level, text))
                key = "#" + "\n".join(t for _, t in stack)
                if key in seen and lines and lines[-1].kind == "heading":
                    continue
                seen.add(key)
                lines.append(Line(source, title, url, c.id, pos, len(lines), text, "heading",
                                  tuple(t for _, t in stack), level))
                continue
            section = tuple(t for _, t in stack)
            key = "\n".join(section) + "\n" + s
            if key in seen:
                continue
            seen.add(key)
            line_kind = kind if kind and kind != "paragraph" else ("list_item" if _LIST_RE.match(s) else "paragraph")
            line = Line(source, title, url, c.id, pos, len(lines), s, line_kind, section, 0, question,
                        lead=next((x for x in leads if s.startswith(x) and len(s) > len(x)), ""))
            for sent in _sentences(s):
                flat = " ".join(sent.split())
                if flat in seen_sentences:
                    continue  # the overlap of two chunks
                seen_sentences.add(flat)
                order += 1
                where = chunk_location or SECTION_SEP.join(section[len(base):]) or None
                line.sentences.append(Sentence(source, title, url, c.id, pos, order, sent, line.index, section,
                                               where))
            lines.append(line)
    return Document(source, lines)


_ENDS_LINE_RE = re.compile(r"[.!?。！？:：;；)）\]”\"'」』]$")
_STARTS_BLOCK_RE = re.compile(r"(?:#|[-*•+]\s|\d{1,3}[.)、]\s?|\*\*|\||>|Q\d*\s*[:：]|A\s*[:：])")


def _logical_lines(text: str, join: bool = True) -> list[str]:
    """Stored lines with hard-wrapped paragraphs joined back (kept with their newline, so verbatim)."""
    out: list[str] = []
    for raw in text.split("\n"):
        s = raw.strip()
        if not s:
            continue
        if not join:
            out.append(s)
            continue
        prev = out[-1] if out else ""
        wrapped = len(prev.rsplit("\n", 1)[-1]) >= 40  # a hard-wrapped line is long; a title line is short
        if (prev and wrapped and not prev.startswith("#") and not _ENDS_LINE_RE.search(prev)
                and not _STARTS_BLOCK_RE.match(s)):
            out[-1] = prev + "\n" + s
        else:
            out.append(s)
    return out


def _sentences(text: str) -> list[str]:
    """Sentences of a logical line, verbatim (a sentence may span a wrapped line break)."""
    if "\n" not in text:
        return split_sentences(text)
    flat = text.replace("\n", " ")  # same length: offsets carry over
    out: list[str] = []
    cursor = 0
    for piece in split_sentences(flat):
        i = flat.find(piece, cursor)
        if i < 0:
            continue
        out.append(text[i:i + len(piece)])
        cursor = i + len(piece)
    return out
