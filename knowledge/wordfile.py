"""Word (.docx) reader: Heading 1..9 styles become the section path; paragraphs, list items, quotes, tables.

A heading is a paragraph whose style is (or is based on) "Heading N", or that carries an outline level;
the "Title" style (or the document's core title property) is the document title. List items are
paragraphs with numbering or a "List …" style; "Quote" styles are quotes. Tables are read row by row,
cells joined with " | ". Everything else is a paragraph, and goes through the same FAQ and cleaning
steps as every other format (``assemble``).
"""

from __future__ import annotations

import io
import re
from typing import Any

from .assemble import Unit, assemble, ends_as_question, split_numbering
from .errors import SkipFile
from .richtext import paragraph_units
from .structure import CELL_SEP, Parsed

_HEADING_RE = re.compile(r"heading\s*([1-9])$", re.I)
_SPACE_RE = re.compile(r"[ \t\r\f\v\u00a0]+")


def read_docx(data: bytes) -> Parsed:
    """One Word document; SkipFile with a one-line reason when it is not a readable .docx."""
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(io.BytesIO(data))
        body = list(document.iter_inner_content())
    except Exception as exc:  # noqa: BLE001 - a zip/XML/package error: one skipped file
        raise SkipFile(f"not a readable Word document ({_reason(exc)})") from None
    title = _clean(document.core_properties.title or "") or None
    units: list[Unit] = []
    for item in body:
        if isinstance(item, Table):
            rows = [CELL_SEP.join(c for c in _row_cells(row) if c) for row in item.rows]
            text = "\n".join(r for r in rows if r)
            if text:
                units.append(Unit(text, "table"))
        elif isinstance(item, Paragraph):
            text = _paragraph_text(item)
            if not text:
                continue
            style = _style_names(item)
            level = _heading_level(item, style)
            if "title" in style and level is None:
                title = title or text.replace("\n", " ")
                continue
            if level is not None:
                numbering, head = split_numbering(text.replace("\n", " "))
                units.append(Unit(head, "heading", level=level, numbering=numbering, question=ends_as_question(head)))
                continue
            kind = "quote" if any("quote" in s for s in style) else (
                "list_item" if _is_list_item(item, style) else "paragraph")
            runs = [r for r in item.runs if r.text.strip()]
            whole_bold = bool(runs) and all(r.bold for r in runs)
            units.extend(paragraph_units(text, kind, whole_bold=whole_bold))
    if not any(u.kind != "heading" for u in units):
        raise SkipFile("no text in the Word document")
    return assemble(units, title=title)


def _reason(exc: Exception) -> str:
    text = str(exc).splitlines()[0][:120] if str(exc) else ""
    name = type(exc).__name__
    if name == "BadZipFile" or "zip" in text.lower():
        return "not a zip archive: corrupt or not a .docx"
    if name == "PackageNotFoundError":
        return "not a Word package"
    return f"{name}: {text}" if text else name


def _clean(text: str) -> str:
    lines = (_SPACE_RE.sub(" ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def _paragraph_text(p: Any) -> str:
    # Paragraph.text turns <w:br/> into "\n" and tabs into "\t".
    return _clean(p.text.replace("\t", " "))


def _row_cells(row: Any) -> list[str]:
    out: list[str] = []
    seen: set[int] = set()
    for cell in row.cells:  # a merged cell appears once per grid column it spans
        if id(cell._tc) in seen:
            continue
        seen.add(id(cell._tc))
        out.append(_clean(cell.text).replace("\n", " "))
    return out


def _style_names(p: Any) -> list[str]:
    """The paragraph's style and the styles it is based on, lower-case."""
    names: list[str] = []
    style = p.style
    while style is not None and len(names) < 10:
        names.append((style.name or "").lower())
        style = style.base_style
    return names


def _heading_level(p: Any, style: list[str]) -> int | None:
    for name in style:
        if m := _HEADING_RE.search(name):
            return int(m.group(1))
    ppr = p._p.pPr
    outline = ppr.find("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}outlineLvl") \
        if ppr is not None else None
    if outline is not None:
        val = outline.get("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}val")
        if val is not None and val.isdigit() and int(val) < 9:
            return int(val) + 1
    return None


def _is_list_item(p: Any, style: list[str]) -> bool:
    ppr = p._p.pPr
    return (ppr is not None and ppr.numPr is not None) or any(s.startswith("list") for s in style)
