"""Source text to ``Parsed``, by file type; and the document's plain text for verbatim checks.

``TEXT_READERS`` maps a suffix to a reader of the decoded file text; other formats (HTML, PDF, DOCX)
add theirs. Markdown and plain text share front-matter handling and the cleaning / FAQ / section
steps in ``assemble``. A ``.txt`` file written in markdown (ATX headings, bold, links) is read as
markdown: the syntax, not the suffix, decides.

``plain(raw, suffix)`` is the document as text with all markup removed and whitespace collapsed:
every sentence of every chunk's display text is a substring of it, so a quote checker compares a
(normalised) quote against it instead of against the raw file.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable

from .assemble import Unit, assemble
from .frontmatter import metadata_fields, split_front_matter
from .markdown import InlineRenderer, _parser, read_markdown_units
from .plaintext import read_plain_units
from .structure import CELL_SEP, Parsed
from .text import weight

MARKDOWN_SUFFIXES = (".md", ".markdown")
PLAIN_SUFFIXES = (".txt",)

_MD_SIGNS = (
    re.compile(r"^#{1,6}\s+\S", re.M),  # ATX heading
    re.compile(r"\*\*[^*\n]+\*\*|__[^_\n]+__"),  # bold
    re.compile(r"\[[^\]\n]+\]\([^)\s]+\)"),  # link
    re.compile(r"^```|^~~~", re.M),  # fence
    re.compile(r"!\[\[|\[\[[^\]\n]+\]\]"),  # Obsidian
    re.compile(r"^\s*>\s+\S", re.M),  # block quote
    re.compile(r"^\|.+\|\s*$", re.M),  # table row
)
_FENCE_RE = re.compile(r"^ {0,3}(`{3,}|~{3,})", re.M)


def looks_like_markdown(text: str) -> bool:
    """Markdown syntax in a text file: an ATX heading, bold, a link, a fence or a wiki link; or quote + table."""
    if any(sign.search(text) for sign in _MD_SIGNS[:5]):
        return True
    return sum(1 for sign in _MD_SIGNS[5:] if sign.search(text)) >= 2


def _naive_weight(body: str) -> int:
    """How much text a tag/markup strip would keep: the yardstick for a parse that lost text."""
    s = re.sub(r"!\[[^\]\n]*\]\([^)\n]*\)", " ", body)
    s = re.sub(r"\]\([^)\s]*\)", " ", s)
    s = re.sub(r"<!--.*?-->", " ", s, flags=re.S)
    s = re.sub(r"<[^>\n]*>", " ", s)
    s = re.sub(r"^\s*<?https?://\S+>?\s*$", " ", s, flags=re.M)
    s = re.sub(r"[#*_>`|\[\]\-=~\s]+", " ", s)
    return weight(s)


def markdown_units(body: str) -> tuple[list[Unit], list[str], str | None]:
    """Markdown units, falling back to plain text (with a note) when the markdown parse loses the text."""
    notes: list[str] = []
    fences = list(_FENCE_RE.finditer(body))
    if len(fences) % 2 == 1:
        last = fences[-1]
        line_no = body.count("\n", 0, last.start()) + 1
        end = body.find("\n", last.start())
        body = body[:last.start()] + (body[end:] if end >= 0 else "")
        notes.append(f"broken markdown: unclosed code fence at line {line_no} ignored")
    try:
        units, md_notes, url = read_markdown_units(body)
    except Exception as exc:  # noqa: BLE001 - a parser bug must not lose the document
        stripped = re.sub(r"<[^>\n]*>", " ", body)
        units, plain_notes, url = read_plain_units(stripped)
        return units, [*notes, f"markdown could not be parsed ({type(exc).__name__}); read as plain text",
                       *plain_notes], url
    kept = sum(weight(u.text) for u in units)
    naive = _naive_weight(body)
    if naive > 200 and kept < 0.5 * naive:
        stripped = re.sub(r"<!--|-->|<[^>\n]*>", " ", body)
        units, plain_notes, url = read_plain_units(stripped)
        return units, [*notes, "markdown parse lost most of the text (unclosed HTML?); read as plain text",
                       *plain_notes], url
    return units, notes + md_notes, url


def _units(raw: str, suffix: str) -> tuple[list[Unit], list[str], dict[str, object], str | None]:
    meta, body, markdown_hint = split_front_matter(raw)
    fields = metadata_fields(meta)
    if suffix in MARKDOWN_SUFFIXES or markdown_hint or looks_like_markdown(body):
        units, notes, url = markdown_units(body)
    else:
        units, notes, url = read_plain_units(body)
    return units, notes, fields, url


def read_markdown_or_text(raw: str, suffix: str) -> Parsed:
    """Parse a markdown or plain-text source; FrontMatterError when its front matter is malformed."""
    units, notes, fields, url = _units(raw, suffix)
    return assemble(units, notes=notes, title=fields["title"], url=fields["url"] or url, date=fields["date"],
                    tags=fields["tags"])


TextReader = Callable[[str, str], Parsed]  # (decoded file text, lower-case suffix) -> Parsed
TEXT_READERS: dict[str, TextReader] = {s: read_markdown_or_text for s in MARKDOWN_SUFFIXES + PLAIN_SUFFIXES}


def read_html_text(raw: str, suffix: str) -> Parsed:
    """HTML through the main-content reader (``htmlpage``; files and fetched pages are read from bytes there)."""
    from .htmlpage import read_html

    return read_html(raw)


TEXT_READERS.update({".html": read_html_text, ".htm": read_html_text})


def plain(raw: str, suffix: str = ".md") -> str:
    """The document's text with markup removed and whitespace collapsed (nothing cleaned away).

    Every display sentence of every block is a substring of it.
    """
    if suffix in TEXT_READERS and TEXT_READERS[suffix] is not read_markdown_or_text:
        try:
            parsed = TEXT_READERS[suffix](raw, suffix)
        except Exception:  # noqa: BLE001 - a reader that refuses the text (no main content...): tags stripped
            return collapse(html.unescape(re.sub(r"<[^>]*>", " ", raw)))
        texts = [b.text for b in parsed.blocks] + [b.question or "" for b in parsed.blocks]
    else:
        try:
            units, _, _, _ = _units(raw, suffix)
        except ValueError:
            units = [Unit(raw)]
        texts = [f"{u.numbering} {u.text}" if u.numbering else u.text for u in units]
    return collapse(" ".join(texts))


def collapse(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def normalise_quote(quote: str) -> str:
    """A quote as display text: inline markdown removed ("**Bold** claim." -> "Bold claim."), spaces collapsed."""
    tokens = _parser().parseInline(quote)
    children = tokens[0].children if tokens and tokens[0].children else []
    return collapse(InlineRenderer().render(children)) if children else collapse(quote)


def quote_in_document(quote: str, raw: str, suffix: str = ".md", *, plain_text: str | None = None) -> bool:
    """Whether a citation quote is verbatim in the document: in the raw file, or (as display text) in its plain text."""
    q = collapse(quote)
    if not q:
        return False
    if q in collapse(raw):
        return True
    text = plain_text if plain_text is not None else plain(raw, suffix)
    if q in text or normalise_quote(quote) in text:
        return True
    # A table row of a format without pipes (HTML, Word, PDF) is quoted as the page reads: its cells one after
    # another, where the reader's text joins them with CELL_SEP.
    return CELL_SEP in text and q in text.replace(CELL_SEP, " ")
