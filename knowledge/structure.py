"""The structure every reader produces and every later stage consumes.

A reader (markdown, plain text, HTML, PDF, DOCX, a fetched web page) turns one source into a
``Parsed``: document metadata plus an ordered list of ``Block``s. Chunking, retrieval, answers and the
role catalog only ever see blocks, so a new format is one new reader and nothing else.

- ``Block.text`` is display text: no markup (no ``**``, ``_``, ``>``, footnote marks, tags,
  entities), whitespace collapsed inside a line. Headings are never part of it.
- ``Block.section`` is the heading path above the block, outermost first, as display text with any
  section numbering removed ("1.1.2 Research engineer" → "Research engineer"); ``Block.numbering``
  keeps the numbers of the innermost heading when there were any.
- ``Block.location`` is where a reader wants the citation to point when it is not the section path
  (a PDF's "page 3"); ``Block.where`` gives the one to show.
- FAQ documents: the answer block carries the question it answers in ``Block.question``; the question
  itself is not a block of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

CELL_SEP = " | "  # how every reader writes a table row's cells in its text (markdown, HTML, Word, PDF)
BlockKind = Literal["paragraph", "list_item", "quote", "table", "code", "footnote", "answer"]


@dataclass(frozen=True)
class Block:
    text: str
    kind: BlockKind = "paragraph"
    section: tuple[str, ...] = ()
    numbering: str | None = None
    location: str | None = None
    question: str | None = None
    lead: str = ""  # emphasised words opening the text (a lead-in label), kept from the markup at ingest

    @property
    def where(self) -> str | None:
        """The location to show with a citation: the reader's own, else the section path."""
        if self.location:
            return self.location
        return " › ".join(self.section) if self.section else None


@dataclass
class Parsed:
    """One source as a reader understood it."""

    blocks: list[Block]
    title: str | None = None
    url: str | None = None
    date: str | None = None
    tags: list[str] = field(default_factory=list)
    location_kind: Literal["section", "page"] = "section"
    notes: list[str] = field(default_factory=list)  # one line each: what was stripped, or why it fell back to text
