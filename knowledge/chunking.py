"""Blocks to chunks: passages that never cross a section or mix two questions' answers.

A chunk's text is the display text of its blocks joined with "\\n" (no heading inside it: the heading
path travels as metadata and is shown as the citation's location). Ids are source + content hash, so
re-ingesting unchanged text keeps them. A block longer than a chunk is cut between sentences, each
piece a verbatim slice of it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .structure import Block
from .text import split_sentences, tokenize, weight

CHUNK_WEIGHT = 700  # about 700 Latin characters or ~230 Chinese ones
SECTION_SEP = " › "


@dataclass(frozen=True)
class Chunk:
    id: str
    source: str
    title: str
    url: str | None
    text: str
    position: int
    heading: str
    section: tuple[str, ...] = ()
    numbering: str = ""
    kind: str = "paragraph"
    question: str = ""
    location: str = ""
    leads: tuple[str, ...] = ()  # its blocks' lead-in labels (Block.lead), in order

    @property
    def section_path(self) -> str:
        return SECTION_SEP.join(self.section)

    def metadata(self, doc: Any, root: str) -> dict[str, str | int]:
        return {
            "source": self.source,
            "title": self.title,
            "url": self.url or "",
            "date": getattr(doc, "date", None) or "",
            "tags": ",".join(getattr(doc, "tags", None) or []),
            "heading": self.heading,
            "section": self.section_path,
            "numbering": self.numbering,
            "kind": self.kind,
            "question": self.question,
            "location": self.location,
            "leads": "\n".join(self.leads),
            "position": self.position,
            "root": root,
            # Lexical tokens are computed once here so retrieval never re-segments the corpus.
            "lex": " ".join(tokenize(self.lexical_text())),
        }

    def lexical_text(self) -> str:
        title = self.title if self.position == 0 else ""
        return f"{self.section_path} {self.question} {title} {self.text}"

    def embed_text(self) -> str:
        """What the dense model sees: section path and FAQ question give short passages their topic."""
        head = "\n".join(x for x in (self.section_path, self.question) if x)
        return f"{head}\n{self.text}" if head else self.text


def chunk_blocks(
    source: str, title: str, url: str | None, blocks: Sequence[Block], max_weight: int = CHUNK_WEIGHT
) -> list[Chunk]:
    """Group blocks by (section, question, code or not), pack each group up to ``max_weight``."""
    groups: list[tuple[tuple[Any, ...], list[tuple[Block, str]]]] = []
    for b in blocks:
        key = (b.section, b.question, b.kind == "code", b.location)
        pieces = [b.text] if weight(b.text) <= max_weight else split_paragraph(b.text, max_weight)
        if not groups or groups[-1][0] != key:
            groups.append((key, []))
        groups[-1][1].extend((b, p) for p in pieces if p.strip())

    chunks: list[Chunk] = []
    seen: set[str] = set()

    def emit(items: list[tuple[Block, str]]) -> None:
        if not items:
            return
        text = "\n".join(p for _, p in items)
        digest = hashlib.sha256(f"{source}\n{text}".encode()).hexdigest()[:16]
        cid = f"{source}#{digest}"
        if cid in seen:
            return
        seen.add(cid)
        first = items[0][0]
        kinds = {b.kind for b, _ in items}
        chunks.append(Chunk(
            cid, source, title, url, text, len(chunks),
            heading=first.section[-1] if first.section else "",
            section=first.section,
            numbering=first.numbering or "",
            kind=first.kind if len(kinds) == 1 else "mixed",
            question=first.question or "",
            location=first.where or "",
            leads=tuple(dict.fromkeys(b.lead for b, p in items if b.lead and p.startswith(b.lead))),
        ))

    for _, items in groups:
        current: list[tuple[Block, str]] = []
        size = 0
        for b, piece in items:
            w = weight(piece)
            if current and size + w + 1 > max_weight:
                emit(current)
                current, size = [], 0
            current.append((b, piece))
            size += w + 1
        emit(current)
    return chunks


def split_paragraph(para: str, max_weight: int) -> list[str]:
    """Cut a long paragraph between sentences, each piece a verbatim slice of it.

    Slicing (rather than re-joining sentences with spaces) keeps Chinese text free of
    inserted spaces, so any quote taken from a chunk is found verbatim in the source.
    """
    spans: list[tuple[int, int]] = []
    pos = 0
    for sentence in split_sentences(para):
        start = para.find(sentence, pos)
        if start < 0:  # split_sentences re-joined fragments: fall back to the next position
            start = pos
        end = max(start + len(sentence), pos)
        spans.extend(_hard_spans(para, start, end, max_weight))
        pos = end
    parts: list[str] = []
    first = last = None
    for start, end in spans:
        if first is not None and last is not None and weight(para[first:end]) > max_weight:
            parts.append(para[first:last].strip())
            first = None
        if first is None:
            first = start
        last = end
    if first is not None:
        parts.append(para[first:].strip())
    return [p for p in parts if p]


def _hard_spans(para: str, start: int, end: int, max_weight: int) -> list[tuple[int, int]]:
    """A "sentence" far over the chunk size (no punctuation for pages) is cut at commas or spaces.

    Real sentences are never cut; this only guards against one giant chunk that no
    embedder reads to the end and no answer can quote.
    """
    if weight(para[start:end]) <= 3 * max_weight:
        return [(start, end)]
    spans: list[tuple[int, int]] = []
    while start < end:
        stop, budget = start, max_weight
        while stop < end and budget > 0:
            budget -= 3 if "\u3400" <= para[stop] <= "\u9fff" else 1
            stop += 1
        if stop < end:
            window = para[start:stop]
            cut = max(window.rfind(c) for c in "，,；;、 ")
            if cut > len(window) // 2:
                stop = start + cut + 1
        spans.append((start, stop))
        start = stop
    return spans


def render(blocks: Sequence[Block]) -> str:
    """The document as readable text: "#" heading lines for section changes, questions on their own line."""
    lines: list[str] = []
    section: tuple[str, ...] = ()
    question: str | None = None
    for b in blocks:
        if b.section != section:
            common = 0
            while common < min(len(section), len(b.section)) and section[common] == b.section[common]:
                common += 1
            heading_question = bool(b.question) and b.section[-1:] == (b.question,)
            for depth in range(common, len(b.section)):
                innermost = depth == len(b.section) - 1
                number = f"{b.numbering} " if b.numbering and innermost and (heading_question or not b.question) else ""
                lines += ["", "#" * (depth + 1) + " " + number + b.section[depth], ""]
            section = b.section
            question = None
        if b.question and b.question != question and b.question not in b.section:
            lines.append(f"{b.numbering} {b.question}" if b.numbering else b.question)
        question = b.question
        lines.append(b.text)
    text = "\n".join(lines)
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text.strip()
