"""HTML reader: a page's main content, through trafilatura, as sections, paragraphs, lists, quotes and tables.

What the page's HTML itself marks as navigation (``<nav>``, ``<aside>``, ARIA navigation/banner/contentinfo
roles, the page-level ``<header>``/``<footer>``) is dropped first; trafilatura (a maintained main-content
extractor, no network use) then drops the rest of the furniture (menus, cookie banners, share widgets,
comment sections) and hands back its own small XML (``head``, ``p``,
``list/item``, ``quote``, ``table/row/cell``, ``code``) with the page's metadata (``<title>``/Open Graph
title, canonical URL, date). That XML becomes units for ``assemble``, which adds the section paths, FAQ
pairing and the same boilerplate cleaning every format gets.

What is left that is mostly link text (a menu the extractor kept because the page has nothing else) is
navigation too: link density is measured against the page's own ``<a>`` texts, and a page with nothing but
such blocks is skipped with one line.
"""

from __future__ import annotations

import re
from typing import Any

from .assemble import A_MARKER_RE, Unit, assemble, ends_as_question, split_numbering
from .errors import SkipFile
from .richtext import paragraph_units
from .structure import CELL_SEP, Parsed

NO_CONTENT = "no main content (all navigation or boilerplate)"
LINK_DENSITY_MAX = 0.5  # a block more than half of whose text is link text is a menu, not content
_SPACE_RE = re.compile(r"[ \t\r\f\v\u00a0]+")


def read_html(data: bytes | str, *, url: str | None = None) -> Parsed:
    """The main content of one HTML page; SkipFile with a one-line reason when it has none."""
    import trafilatura
    from lxml import etree

    page, anchors, cleaned = _prepare(data)
    try:
        xml = trafilatura.extract(
            cleaned, url=url, output_format="xml", with_metadata=True, include_comments=False, include_tables=True,
            include_links=False, include_images=False, include_formatting=True, deduplicate=False,
            date_extraction_params={"extensive_search": False, "original_date": True},
        )
    except Exception as exc:  # noqa: BLE001 - a parser failure is one skipped page, not a crash
        raise SkipFile(f"HTML could not be parsed ({type(exc).__name__})") from None
    if not xml:
        raise SkipFile(NO_CONTENT)
    root = etree.fromstring(xml.encode("utf-8"))
    main = root.find("main")
    units: list[Unit] = []
    if main is not None:
        for child in main:
            units.extend(_units(child))
    notes: list[str] = []
    menus = [u for u in units if u.kind != "heading" and _link_density(u.text, anchors) > LINK_DENSITY_MAX]
    if menus:
        units = [u for u in units if u not in menus]
        notes.append(f"{len(menus)} link list(s) (navigation)")
    if not any(u.kind != "heading" for u in units):
        raise SkipFile(NO_CONTENT)
    # The page's own title (Open Graph, else <title>); trafilatura's when it is that title less a site name.
    extracted = _text_or_none(root.get("title"))
    title = extracted if extracted and page and extracted in page else (page or extracted)
    if title is None:
        title = next((u.text for u in units if u.kind == "heading"), None)
    return assemble(units, notes=notes, title=title, url=url or _text_or_none(root.get("url")),
                    date=_text_or_none(root.get("date")))


# --- trafilatura XML to units -------------------------------------------------------------------

def _units(el: Any) -> list[Unit]:
    tag = el.tag
    if tag == "head":
        text = _inline(el).replace("\n", " ")
        if not text:
            return []
        level = int(m.group(1)) if (m := re.fullmatch(r"h([1-6])", el.get("rend") or "")) else 2
        numbering, title = split_numbering(text)
        return [Unit(title, "heading", level=level, numbering=numbering, question=ends_as_question(title))]
    if tag == "p":
        return _paragraph(el, "paragraph")
    if tag == "list":
        out: list[Unit] = []
        for item in el.iter("item"):
            text = _inline(item, skip=("list",))
            if text:
                out.append(Unit(text, "list_item", answer=bool(A_MARKER_RE.match(text))))
        return out
    if tag == "quote":
        text = "\n".join(t for t in (_inline(p) for p in el.iter("p")) if t) or _inline(el)
        return [Unit(text, "quote")] if text else []
    if tag == "table":
        rows = [CELL_SEP.join(c for c in (_inline(cell) for cell in row.iter("cell")) if c) for row in el.iter("row")]
        text = "\n".join(r for r in rows if r)
        return [Unit(text, "table")] if text else []
    if tag == "code":
        text = "".join(el.itertext()).strip("\n")
        return [Unit(text, "code")] if text.strip() else []
    if tag in ("div", "section"):
        return [u for child in el for u in _units(child)]
    text = _inline(el)
    return [Unit(text, "paragraph")] if text else []


def _paragraph(el: Any, kind: str) -> list[Unit]:
    text = _inline(el)
    bold = "".join("".join(hi.itertext()) for hi in el.iter("hi") if "#b" in (hi.get("rend") or ""))
    return paragraph_units(text, kind, whole_bold=bool(bold) and _SPACE_RE.sub("", bold) == _SPACE_RE.sub("", text))


def _inline(el: Any, skip: tuple[str, ...] = ()) -> str:
    """Display text of an element: <lb/> breaks the line, spaces collapsed inside each line."""
    parts: list[str] = []

    def walk(node: Any) -> None:
        if node.text:
            parts.append(node.text)
        for child in node:
            if child.tag in skip:
                pass
            elif child.tag == "lb":
                parts.append("\n")
            else:
                walk(child)
            if child.tail:
                parts.append(child.tail)

    walk(el)
    lines = (_SPACE_RE.sub(" ", line).strip() for line in "".join(parts).split("\n"))
    return "\n".join(line for line in lines if line)


def _text_or_none(value: str | None) -> str | None:
    value = _SPACE_RE.sub(" ", value or "").strip()
    return value or None


# --- navigation by link density -------------------------------------------------------------------

def _prepare(data: bytes | str) -> tuple[str | None, list[str], str]:
    """(og:title or <title>, the link texts longest first, the page less what HTML marks as navigation).

    ``<nav>``, ``<aside>``, role=navigation/banner/contentinfo/complementary, and the page-level
    ``<header>``/``<footer>`` (not an article's own) are dropped before extraction: trafilatura's fallback
    for a short page would otherwise keep them.
    """
    from lxml import html as lxml_html
    from trafilatura.utils import decode_file

    text = decode_file(data) if isinstance(data, bytes) else data
    text = re.sub(r"^\s*<\?xml[^>]*\?>", "", text)
    try:
        doc = lxml_html.document_fromstring(text)
    except Exception:  # noqa: BLE001 - let trafilatura try the page as it is
        return None, [], text
    og = doc.xpath("//meta[@property='og:title']/@content")
    titles = doc.xpath("//title")
    title = _text_or_none(str(og[0])) if og else (_text_or_none(titles[0].text_content()) if titles else None)
    links = {_SPACE_RE.sub(" ", " ".join(a.itertext())).strip() for a in doc.iter("a")}
    furniture = doc.xpath(
        "//nav | //aside | //*[@role='navigation' or @role='banner' or @role='contentinfo' or @role='complementary']"
        " | //header[not(ancestor::article or ancestor::main)] | //footer[not(ancestor::article or ancestor::main)]"
    )
    for el in furniture:
        if el.getparent() is not None:
            el.drop_tree()
    cleaned = lxml_html.tostring(doc, encoding="unicode")
    return title, sorted((t for t in links if len(t) >= 2), key=len, reverse=True), cleaned


def _link_density(text: str, anchors: list[str]) -> float:
    """Share of a block's characters that are the text of a link on the page."""
    rest = " ".join(text.split())
    total = len(rest.replace(" ", ""))
    if not total:
        return 0.0
    for anchor in anchors:
        if anchor in rest:
            rest = rest.replace(anchor, " ")
    return 1.0 - len(rest.replace(" ", "")) / total
