"""Markdown reader: markdown-it-py tokens to units (see ``assemble``), display text without markup.

Display text keeps what a reader of the rendered page sees: inline code, emphasis and links reduced to
their text; raw inline HTML tags removed (``<br>`` breaks the line); entities decoded; images and badges
dropped; Obsidian ``[[target|label]]`` links shown as their label and ``![[embeds]]`` removed; kramdown
``{: ...}`` attribute lists dropped; footnote marks removed (footnotes become blocks of their own).
Lines that are only a URL are dropped (they are addresses, not knowledge).
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from html.parser import HTMLParser

from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.footnote import footnote_plugin

from .assemble import (
    A_MARKER_RE,
    PSEUDO_HEADING_LEVEL,
    Q_MARKER_RE,
    Unit,
    ends_as_question,
    split_numbering,
    split_qa,
)
from .structure import CELL_SEP
from .text import CJK_RE, weight

_EMBED_RE = re.compile(r"!\[\[[^\]\n]*\]\]")
_WIKILINK_RE = re.compile(r"\[\[([^\]|\n]*)(?:\|([^\]\n]*))?\]\]")
_KRAMDOWN_RE = re.compile(r"\{:[^}\n]*\}")
URL_ONLY_RE = re.compile(r"^\s*<?https?://\S+>?\s*$")
_STRAY_MARKUP_RE = re.compile(r"\*{2,}|(?<![\w])_{2,}|_{2,}(?![\w])|(?<!\S)#{1,6}(?=\s)|^\s*>\s*")
_SENTENCE_END_RE = re.compile(r"[。！？!?；;:：.]$")
_SHORTCODE_RE = re.compile(r"(?<![\w:]):[a-z][a-z0-9_+-]{1,30}:(?![\w:])\s?")
_NOT_A_HEADING_END_RE = re.compile(r"[。！？!?；;.,，、…]$")
PSEUDO_HEADING_MAX_WEIGHT = 80

_LINE_START_RE = re.compile(r"\s*(\d{1,3}[.、)）]?\s*)?")
_MD: MarkdownIt | None = None
HTML_ELEMENTS = frozenset(
    """a abbr address area article aside audio b base bdi bdo blockquote body br button canvas caption cite code col
    colgroup data datalist dd del details dfn dialog div dl dt em embed fieldset figcaption figure font footer form
    h1 h2 h3 h4 h5 h6 head header hr html i iframe img input ins kbd label legend li link main map mark meta meter nav
    noscript object ol optgroup option output p param picture pre progress q rp rt ruby s samp script section select
    small source span strike strong style sub summary sup svg table tbody td template textarea tfoot th thead time
    title tr track u ul var video wbr center big tt""".split()
)
_TAG_NAME_RE = re.compile(r"^</?([A-Za-z][A-Za-z0-9-]*)")


def is_html_tag(markup: str) -> bool:
    """An HTML element's tag or a comment (removed from display), not angle-bracketed text."""
    if markup.startswith(("<!--", "<?", "<!")):
        return True
    m = _TAG_NAME_RE.match(markup)
    if m is None:
        return False
    return m.group(1).lower() in HTML_ELEMENTS or "-" in m.group(1)


def _parser() -> MarkdownIt:
    global _MD
    if _MD is None:
        _MD = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"]).use(footnote_plugin)
    return _MD


def preprocess(source: str) -> tuple[str, int]:
    """Source with Obsidian/kramdown syntax resolved: (text, number of ![[embeds]] removed)."""
    embeds = len(_EMBED_RE.findall(source))
    source = _EMBED_RE.sub("", source)
    source = _WIKILINK_RE.sub(lambda m: (m.group(2) or m.group(1).split("#")[0]).strip(), source)
    source = _KRAMDOWN_RE.sub("", source)
    return source, embeds


class _Line:
    __slots__ = ("parts", "hard")

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.hard = False  # ended by a hard break (<br>, two spaces)


def join_lines(lines: Sequence[str], hard: Sequence[bool] = ()) -> str:
    """Re-join a paragraph's source lines: CJK wraps close up, a line ending a sentence (or a hard
    break) stays a line of its own, other wraps become a space."""
    out = ""
    for i, line in enumerate(lines):
        line = line.strip()
        if not line:
            continue
        if not out:
            out = line
            continue
        prev_hard = hard[i - 1] if i - 1 < len(hard) else False
        if prev_hard or _SENTENCE_END_RE.search(out) or re.match(r"^([-*+•·]|\d{1,3}[.、)）]|[①-⑳])", line):
            out += "\n" + line
        elif CJK_RE.match(out[-1]) and CJK_RE.match(line[0]):
            out += line
        else:
            out += " " + line
    return out


def clean_inline(text: str) -> str:
    """Stray emphasis/heading/quote marks and emoji shortcodes (":robot:") removed, runs of spaces collapsed."""
    text = _STRAY_MARKUP_RE.sub("", text)
    if ":" in text:
        text = _SHORTCODE_RE.sub("", text)
    return re.sub(r"[ \t\u00a0\u3000]+", " ", text)


class InlineRenderer:
    """Inline tokens to display text, line by line; bare-URL lines counted and dropped."""

    def __init__(self) -> None:
        self.urls_dropped = 0
        self.first_url: str | None = None
        self.footnote_refs: list[str] = []

    def lines(self, children: Sequence[Token]) -> list[_Line]:
        lines = [_Line()]
        lead_open = False  # a bold span opening the line (after a list number at most)
        for i, tok in enumerate(children):
            t = tok.type
            if t == "strong_open":
                lead_open = _LINE_START_RE.fullmatch("".join(lines[-1].parts)) is not None
            elif t == "strong_close" and lead_open:
                lead_open = False
                shown = "".join(lines[-1].parts).rstrip()
                nxt = children[i + 1] if i + 1 < len(children) else None
                if nxt is not None and nxt.type == "text" and nxt.content[:1].isalnum() and shown \
                        and shown[-1].isalnum():
                    # "**Systematic path**The project..." glued in the source: a bold lead-in, not one word.
                    lines[-1].parts.append("：" if CJK_RE.match(shown[-1]) else ": ")
            if t in ("text", "code_inline"):
                lines[-1].parts.append(tok.content)
            elif t == "softbreak":
                lines.append(_Line())
            elif t == "hardbreak":
                lines[-1].hard = True
                lines.append(_Line())
            elif t == "html_inline":
                if re.match(r"(?i)<br\s*/?>", tok.content):
                    lines[-1].hard = True
                    lines.append(_Line())
                elif not is_html_tag(tok.content):
                    lines[-1].parts.append(tok.content)  # "<for everyone>" is text, not an element
            elif t == "footnote_ref":
                self.footnote_refs.append(str(tok.meta.get("label", tok.meta.get("id", ""))))
            # images, emphasis markers, footnote anchors: nothing shown
        return lines

    def render(self, children: Sequence[Token]) -> str:
        kept: list[str] = []
        hard: list[bool] = []
        for line in self.lines(children):
            text = clean_inline(html.unescape("".join(line.parts))).strip()
            if URL_ONLY_RE.match(text):
                self.urls_dropped += 1
                if self.first_url is None:
                    self.first_url = text.strip("<> ")
                continue
            if text:
                kept.append(text)
                hard.append(line.hard)
        return join_lines(kept, hard)


def _anchor_link_only(children: Sequence[Token]) -> bool:
    """An inline that is nothing but one link to a place in the same page ("[Skills](#skills)")."""
    meaningful = [c for c in children if not (c.type == "text" and not c.content.strip())]
    if len(meaningful) < 3 or meaningful[0].type != "link_open" or meaningful[-1].type != "link_close":
        return False
    href = str(meaningful[0].attrs.get("href", ""))
    return href.startswith("#") and sum(1 for c in meaningful if c.type == "link_open") == 1


def _lead_split(children: Sequence[Token]) -> tuple[list[Token], list[Token]] | None:
    """(bold lead, rest) when the inline content opens with a strong/em span."""
    i = 0
    while i < len(children) and children[i].type == "text" and not children[i].content.strip():
        i += 1
    if i >= len(children) or children[i].type not in ("strong_open", "em_open"):
        return None
    close = children[i].type.replace("_open", "_close")
    depth = 0
    for j in range(i, len(children)):
        if children[j].type == children[i].type:
            depth += 1
        elif children[j].type == close:
            depth -= 1
            if depth == 0:
                return list(children[i + 1:j]), list(children[j + 1:])
    return None


class _HtmlText(HTMLParser):
    """Text pieces of a raw HTML block, cut at block elements; link-dominated pieces (nav, badges) marked."""

    BLOCK = {"p", "div", "li", "tr", "td", "th", "section", "article", "ul", "ol", "table", "blockquote",
             "h1", "h2", "h3", "h4", "h5", "h6", "details", "summary", "dd", "dt", "pre", "hr", "center"}
    SKIP = {"script", "style", "noscript", "nav", "footer", "form", "svg", "button"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.pieces: list[tuple[str, str, int]] = []  # (tag, text, link chars)
        self._buf: list[str] = []
        self._link = 0
        self._link_chars = 0
        self._skip = 0
        self._tag = "p"

    def _flush(self) -> None:
        text = re.sub(r"\s+", " ", "".join(self._buf)).strip()
        if text:
            self.pieces.append((self._tag, text, self._link_chars))
        self._buf, self._link_chars, self._tag = [], 0, "p"

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self._skip += 1
        elif tag == "br":
            self._buf.append(" ")
        elif tag in self.BLOCK:
            self._flush()
            self._tag = tag
        elif tag == "a":
            self._link += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self._skip = max(0, self._skip - 1)
        elif tag in self.BLOCK:
            self._flush()
        elif tag == "a":
            self._link = max(0, self._link - 1)

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        self._buf.append(data)
        if self._link:
            self._link_chars += len(data.strip())

    def close(self) -> None:
        super().close()
        self._flush()


def html_block_units(markup: str) -> list[Unit]:
    """Readable text of an HTML block inside markdown: headings and paragraphs, not nav or badges."""
    parser = _HtmlText()
    try:
        parser.feed(markup)
        parser.close()
    except Exception:  # noqa: BLE001 - malformed HTML: fall back to stripping tags
        text = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]*>?", " ", markup))).strip()
        return [Unit(text)] if text else []
    units: list[Unit] = []
    for tag, text, link_chars in parser.pieces:
        text = clean_inline(text).strip()
        if not text or link_chars >= 0.5 * len(text) or URL_ONLY_RE.match(text):
            continue
        if re.fullmatch(r"h[1-6]", tag):
            number, title = split_numbering(text)
            units.append(Unit(title, "heading", level=int(tag[1]), numbering=number, question=ends_as_question(title)))
        elif weight(text) >= 20 or _SENTENCE_END_RE.search(text):
            units.append(Unit(text, "quote" if tag == "blockquote" else "paragraph"))
    return units


def read_markdown_units(body: str) -> tuple[list[Unit], list[str], str | None]:
    """(units, notes, first bare URL) of a markdown body (front matter already removed)."""
    source, embeds = preprocess(body)
    tokens = _parser().parse(source)
    inline = InlineRenderer()
    units: list[Unit] = []
    notes: list[str] = []
    if embeds:
        notes.append(f"{embeds} Obsidian embed(s)")

    quote_depth = 0
    list_depth = 0
    toc_lines = 0
    footnote_depth = 0
    heading_level = 0
    table_row: list[str] | None = None
    sections: list[tuple[int, str]] = []
    ref_section: dict[str, tuple[str, ...]] = {}
    footnote_label = ""

    for tok in tokens:
        t = tok.type
        if t == "blockquote_open":
            quote_depth += 1
        elif t == "blockquote_close":
            quote_depth -= 1
        elif t in ("bullet_list_open", "ordered_list_open"):
            list_depth += 1
        elif t in ("bullet_list_close", "ordered_list_close"):
            list_depth -= 1
        elif t == "footnote_open":
            footnote_depth += 1
            footnote_label = str(tok.meta.get("label", tok.meta.get("id", "")))
        elif t == "footnote_close":
            footnote_depth -= 1
        elif t == "heading_open":
            heading_level = int(tok.tag[1])
        elif t == "heading_close":
            heading_level = 0
        elif t == "hr":
            units.append(Unit("", "rule"))
        elif t == "tr_open":
            table_row = []
        elif t == "tr_close":
            cells = [c for c in (table_row or []) if c]
            if cells:
                units.append(Unit(CELL_SEP.join(cells), "table"))
            table_row = None
        elif t in ("fence", "code_block"):
            code = "\n".join(line.rstrip() for line in tok.content.strip("\n").split("\n"))
            if code.strip():
                units.append(Unit(code, "code"))
        elif t == "html_block":
            if not tok.content.lstrip().startswith("<!--"):
                units.extend(html_block_units(tok.content))
        elif t == "inline":
            children = tok.children or []
            if table_row is not None:
                table_row.append(inline.render(children).replace("\n", " "))
                continue
            before = len(inline.footnote_refs)
            if heading_level:
                text = inline.render(children).replace("\n", " ")
                if text:
                    number, title = split_numbering(text)
                    while sections and sections[-1][0] >= heading_level:
                        sections.pop()
                    sections.append((heading_level, title))
                    units.append(Unit(title, "heading", level=heading_level, numbering=number,
                                      question=ends_as_question(title)))
                continue
            path = tuple(s for _, s in sections)
            if footnote_depth:
                text = inline.render(children)
                if text:
                    units.append(Unit(text, "footnote", section_hint=ref_section.get(footnote_label, ())))
                continue
            if list_depth:
                if _anchor_link_only(children):
                    toc_lines += 1  # a table of contents entry: the headings themselves follow
                    continue
            units.extend(_paragraph_units(inline, children, "quote" if quote_depth else (
                "list_item" if list_depth else "paragraph")))
            for label in inline.footnote_refs[before:]:
                ref_section.setdefault(label, path)
    if inline.urls_dropped:
        notes.append(f"{inline.urls_dropped} bare URL line(s)")
    if toc_lines:
        notes.append(f"table of contents ({toc_lines} line(s))")
    return units, notes, inline.first_url


_SECTION_NUMBER_RE = re.compile(r"\d{1,3}[.．]\d|第")


def _numbered_heading_line(children: Sequence[Token]) -> list[Unit] | None:
    """A paragraph whose first line is a section-numbered title ("1.1.2 Research engineer") and whose other lines
    are its text: the heading and the text, not one glued sentence."""
    lines = [clean_inline(html.unescape("".join(x.parts))).strip() for x in InlineRenderer().lines(children)]
    lines = [x for x in lines if x and not URL_ONLY_RE.match(x)]
    if len(lines) < 2:
        return None
    number, title = split_numbering(lines[0])
    if number is None or not _SECTION_NUMBER_RE.match(number) or weight(title) > PSEUDO_HEADING_MAX_WEIGHT \
            or _NOT_A_HEADING_END_RE.search(title) or title[0].islower() or lines[1][0].islower():
        return None  # "1.5 million people / work in AI today." is one wrapped sentence
    return [Unit(title, "heading", level=PSEUDO_HEADING_LEVEL, numbering=number), Unit(join_lines(lines[1:]))]


def _paragraph_units(inline: InlineRenderer, children: Sequence[Token], kind: str) -> list[Unit]:
    """A paragraph as units: a question-shaped lead (bold question, "Q:" line) split from its answer."""
    text = inline.render(children)
    if not text:
        return []
    base = kind  # paragraph | list_item | quote
    if base == "paragraph" and "\n" not in text:
        glued = _numbered_heading_line(children)
        if glued is not None:
            return glued
    lead = _lead_split(children)
    if lead is not None:
        q = InlineRenderer().render(lead[0]).replace("\n", " ").strip()
        rest = InlineRenderer().render(lead[1]).strip()
        rest = re.sub(r"^[:：\-–—]\s*", "", rest)
        if q and ends_as_question(q) and (rest or base != "list_item"):
            units = [Unit(q, "paragraph", question=True)]
            if rest:
                units.append(Unit(rest, base, answer=bool(A_MARKER_RE.match(rest))))  # type: ignore[arg-type]
            return units
        if base == "paragraph" and q and not rest and weight(q) <= PSEUDO_HEADING_MAX_WEIGHT \
                and not _NOT_A_HEADING_END_RE.search(q) and not (Q_MARKER_RE.match(q) or A_MARKER_RE.match(q)):
            # A wholly bold short line that does not end a sentence is used as a heading: a section below
            # any real heading (level 7), ended by the next heading of any level.
            number, title = split_numbering(q.rstrip(":： "))
            return [Unit(title, "heading", level=PSEUDO_HEADING_LEVEL, numbering=number)]
    shown_lead = ""
    if lead is not None and lead[1]:
        q = InlineRenderer().render(lead[0]).replace("\n", " ").strip()
        if q and text.startswith(q) and weight(q) <= PSEUDO_HEADING_MAX_WEIGHT:
            shown_lead = q  # "**ML platform engineer** builds …": the label is kept, the markup is not
    if Q_MARKER_RE.match(text) and (base != "list_item" or ends_as_question(text) or A_MARKER_RE.search(text)):
        return split_qa(text, base) or []  # type: ignore[arg-type]
    if A_MARKER_RE.match(text):
        return [Unit(text, base, answer=True, lead=shown_lead)]  # type: ignore[arg-type]
    if base == "paragraph" and "\n" not in text and ends_as_question(text) and split_numbering(text)[0]:
        return [Unit(text, "paragraph", question=True)]  # "8.45 How do I ...?" on a line of its own
    return [Unit(text, base, lead=shown_lead)]  # type: ignore[arg-type]
