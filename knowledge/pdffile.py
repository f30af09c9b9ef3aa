"""PDF reader: the text layer, page by page; a citation points at "page N".

Each page's extracted text is read like plain text (paragraphs, heading-like lines, FAQ lines), then the
whole document is assembled once so sections run across pages, and every block keeps the page it came
from (``Block.location``, ``Parsed.location_kind == "page"``). Headings come from font sizes where the PDF
has them: short lines set clearly larger than the body text (the most used size) are headings, the largest
size outermost. A PDF whose pages have no text layer (a scan) and one that needs a password are skipped
with one line each.
"""

from __future__ import annotations

import io
import logging
import re
from collections import Counter
from typing import Any

from .assemble import Unit, assemble, ends_as_question, split_numbering
from .errors import SkipFile
from .plaintext import read_plain_units
from .richtext import locate
from .structure import Parsed
from .text import weight

HEADING_SCALE = 1.15  # a line this much larger than the body text is a heading
HEADING_MAX_WEIGHT = 120


def read_pdf(data: bytes) -> Parsed:
    """One PDF; SkipFile with a one-line reason when it is encrypted, scanned or not a PDF."""
    from pypdf import PdfReader

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # its warnings about broken files: we say it in one line
    try:
        reader = PdfReader(io.BytesIO(data))
        encrypted = reader.is_encrypted
    except Exception as exc:  # noqa: BLE001 - any parse failure: one skipped file
        raise SkipFile(f"not a readable PDF ({type(exc).__name__})") from None
    if encrypted:
        try:
            opened = bool(reader.decrypt(""))  # restrictions-only PDFs open with the empty password
        except Exception:  # noqa: BLE001 - unsupported cipher, missing crypto library...
            opened = False
        if not opened:
            raise SkipFile("encrypted PDF (it needs a password; save a copy without one)")
    units: list[Unit] = []
    locations: list[str] = []
    notes: list[str] = []
    unreadable = 0
    try:
        pages = list(reader.pages)
    except Exception as exc:  # noqa: BLE001
        raise SkipFile(f"not a readable PDF ({type(exc).__name__})") from None
    texts: list[str] = []
    runs: list[list[tuple[str, float]]] = []  # per page: (text, font size) of each text run
    for page in pages:
        page_runs: list[tuple[str, float]] = []
        try:
            texts.append(page.extract_text(visitor_text=_collector(page_runs)) or "")
        except Exception:  # noqa: BLE001 - one bad page does not lose the others
            unreadable += 1
            texts.append("")
        runs.append(page_runs)
    levels = _heading_levels(runs)
    for n, (text, page_runs) in enumerate(zip(texts, runs, strict=True), 1):
        headings = {t: levels[size] for t, size in page_runs if size in levels and _heading_like(t)}
        page_units, _, _ = read_plain_units(text)
        for u in page_units:
            level = headings.get(u.text.strip())
            if level is not None and u.kind in ("paragraph", "heading"):
                numbering, title = split_numbering(u.text)
                u = Unit(title, "heading", level=level, numbering=numbering, question=ends_as_question(title))
            units.append(u)
            locations.append(f"page {n}")
    if unreadable:
        notes.append(f"{unreadable} page(s) whose text could not be extracted")
    if not any(u.kind != "heading" for u in units):
        raise SkipFile("no text layer (scanned?)")
    doc_title: str | None = None
    try:
        meta = reader.metadata
        doc_title = ((meta.title or "").strip() or None) if meta is not None else None
    except Exception:  # noqa: BLE001 - broken info dictionary: no title
        doc_title = None
    parsed = assemble(units, notes=notes, title=doc_title)
    parsed.blocks = locate(parsed.blocks, units, locations)
    parsed.location_kind = "page"
    return parsed


def _collector(out: list[tuple[str, float]]) -> Any:
    def visit(text: str, cm: Any, tm: Any, font: Any, size: float) -> None:
        if text and text.strip():
            try:
                scale = abs(float(tm[3]) * float(cm[3])) or 1.0
            except (TypeError, ValueError, IndexError):
                scale = 1.0
            out.append((" ".join(text.split()), round(float(size or 0) * scale, 1)))

    return visit


def _heading_levels(runs: list[list[tuple[str, float]]]) -> dict[float, int]:
    """Font size -> heading level (1 = largest) for sizes clearly above the body text's."""
    used: Counter[float] = Counter()
    for page in runs:
        for text, size in page:
            used[size] += len(text)
    if not used:
        return {}
    body = used.most_common(1)[0][0]
    larger = sorted((s for s in used if body > 0 and s >= body * HEADING_SCALE), reverse=True)[:4]
    return {size: i + 1 for i, size in enumerate(larger)}


def _heading_like(text: str) -> bool:
    return bool(text) and weight(text) <= HEADING_MAX_WEIGHT and not re.search(r"[。.!！,，;；:：]$", text)
