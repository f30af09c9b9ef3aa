"""What the rich-document readers (HTML, DOCX, PDF) share: a paragraph's FAQ shape, and finding pages again."""

from __future__ import annotations

from .assemble import A_MARKER_RE, Q_MARKER_RE, Unit, ends_as_question
from .structure import Block


def paragraph_units(text: str, kind: str = "paragraph", *, whole_bold: bool = False) -> list[Unit]:
    """A paragraph as units: a question-shaped one (wholly bold and ending in "?", or a "Q:" line) opens a
    FAQ pair; a "Q:" line followed by an "A:" line in the same paragraph is split into the two."""
    if not text:
        return []
    if whole_bold and ends_as_question(text):
        return [Unit(text.replace("\n", " "), "paragraph", question=True)]
    lines = text.split("\n")
    if Q_MARKER_RE.match(lines[0]):
        for n in range(1, len(lines)):
            if A_MARKER_RE.match(lines[n]):
                return [Unit(" ".join(lines[:n]), "paragraph", question=True),
                        Unit("\n".join(lines[n:]), kind, answer=True)]  # type: ignore[arg-type]
        return [Unit(text.replace("\n", " "), "paragraph", question=True)]
    return [Unit(text, kind, answer=bool(A_MARKER_RE.match(text)))]  # type: ignore[arg-type]


def locate(blocks: list[Block], units: list[Unit], locations: list[str]) -> list[Block]:
    """Give each block the location (a PDF's "page 3") of the unit it came from.

    ``assemble`` keeps the units' order and text (less an answer marker, questions folded into their
    answers), so walking both lists together finds each block's unit; a block that matches none keeps the
    location of the one before it.
    """
    from dataclasses import replace

    out: list[Block] = []
    cursor, last = 0, locations[0] if locations else None
    for block in blocks:
        for i in range(cursor, len(units)):
            if block.text and block.text in units[i].text:
                cursor, last = i + 1, locations[i]
                break
        out.append(replace(block, location=last))
    return out
