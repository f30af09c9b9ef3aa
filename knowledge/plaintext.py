"""Plain-text reader: paragraphs, heading-like lines, question lines.

- Paragraphs are separated by blank lines. Inside one, a line break is a wrap (re-joined) when the line
  runs to about the text's usual width and does not end a sentence; otherwise each line is a paragraph
  of its own (many scraped pages put one paragraph per line).
- A short line that does not end like a sentence becomes a heading when it stands alone (a blank line
  after it), is underlined (=== / ---), or carries a section number ("2.1 Skills", "一、", "第二章") and
  has body text under it.
- A line ending in "?"/"？" is a question when it has a "Q:"/"问：" marker or a number, or when the text has
  several such stand-alone question lines (an FAQ page); the lines that follow are its answer.
"""

from __future__ import annotations

import html
import re

from .assemble import A_MARKER_RE, Q_MARKER_RE, Unit, ends_as_question, split_numbering, split_qa
from .markdown import URL_ONLY_RE, clean_inline, is_html_tag, join_lines
from .text import weight

_UNDERLINE_RE = re.compile(r"^\s*(=+|-+)\s*$")
_SENTENCE_END_RE = re.compile(r"[。！？!?；;.,，、:：…]$")
_BULLET_RE = re.compile(r"^\s*[-*•·+]\s+")
HEADING_MAX_WEIGHT = 80
QUESTION_MAX_WEIGHT = 600  # an asker's question can be a long paragraph (200 Chinese characters)


_TAG_RE = re.compile(r"<[^<>\n]+>")


def _untag(line: str) -> str:
    """HTML element tags dropped (<br> breaks nothing here) and entities decoded; "<company name>" stays."""
    line = _TAG_RE.sub(lambda m: " " if is_html_tag(m.group(0)) else m.group(0), line)
    return html.unescape(line) if "&" in line else line


def _heading_like(line: str) -> bool:
    s = line.strip()
    return bool(s) and weight(s) <= HEADING_MAX_WEIGHT and not _SENTENCE_END_RE.search(s) and \
        not _BULLET_RE.match(s) and not URL_ONLY_RE.match(s)


def read_plain_units(body: str) -> tuple[list[Unit], list[str], str | None]:
    """(units, notes, first bare URL) of a plain-text body."""
    # Stray markdown marks in a text file that is not markdown ("**", a leading "> ") are not text either.
    lines = [clean_inline(_untag(line)).rstrip() for line in body.split("\n")]
    notes: list[str] = []
    urls = [i for i, line in enumerate(lines) if URL_ONLY_RE.match(line)]
    first_url = lines[urls[0]].strip().strip("<>") if urls else None
    if urls:
        notes.append(f"{len(urls)} bare URL line(s)")
        drop = set(urls)
        lines = ["" if i in drop else line for i, line in enumerate(lines)]

    # Paragraphs: runs of non-blank lines (a blank line before / after is remembered for headings).
    paras: list[tuple[list[str], bool]] = []  # (lines, followed by a blank line or the end)
    run: list[str] = []
    for line in lines + [""]:
        if line.strip():
            run.append(line.strip())
        elif run:
            paras.append((run, True))
            run = []
    lengths = sorted(len(x) for p, _ in paras for x in p)
    width = lengths[int(len(lengths) * 0.9)] if lengths else 0  # the text's usual full-line width

    # Each paragraph to lines-as-units (wrapped lines re-joined).
    pieces: list[tuple[str, bool]] = []  # (text, ends its paragraph)
    for plines, _ in paras:
        cur: list[str] = []
        for n, line in enumerate(plines):
            cur.append(line)
            nxt = plines[n + 1] if n + 1 < len(plines) else None
            wrapped = (
                nxt is not None
                and width >= 40
                and len(line) >= 0.6 * width
                and not _SENTENCE_END_RE.search(line)
                and not _UNDERLINE_RE.match(nxt)
            )
            if not wrapped:
                pieces.append((join_lines(cur), nxt is None))
                cur = []

    standalone_questions = sum(
        1 for text, _ in pieces if "\n" not in text and ends_as_question(text) and weight(text) <= QUESTION_MAX_WEIGHT
    )
    faq_page = standalone_questions >= 2

    units: list[Unit] = []
    i = 0
    while i < len(pieces):
        text, para_end = pieces[i]
        prev_numbered = i > 0 and split_numbering(pieces[i - 1][0])[0] is not None
        nxt = pieces[i + 1][0] if i + 1 < len(pieces) else None
        if nxt is not None and _UNDERLINE_RE.match(nxt) and _heading_like(text):
            number, title = split_numbering(text)
            units.append(Unit(title, "heading", level=1 if nxt.strip()[0] == "=" else 2, numbering=number))
            i += 2
            continue
        if _UNDERLINE_RE.match(text):
            i += 1
            continue
        number, title = split_numbering(text)
        question_line = ends_as_question(text) and "\n" not in text and weight(text) <= QUESTION_MAX_WEIGHT
        if Q_MARKER_RE.match(text):
            units.extend(split_qa(text) or [])
        elif question_line and (number is not None or faq_page):
            units.append(Unit(text, "paragraph", question=True))
        elif A_MARKER_RE.match(text):
            units.append(Unit(text, "paragraph", answer=True))
        elif _heading_like(text) and nxt is not None and not _heading_like(nxt) and (
            para_end or (number is not None and split_numbering(nxt)[0] is None and not prev_numbered)
        ):
            level = number.rstrip(".．").count(".") + 1 if number and number[0].isdigit() else 1
            units.append(Unit(title, "heading", level=level, numbering=number))
        elif _BULLET_RE.match(text):
            units.append(Unit(_BULLET_RE.sub("", text), "list_item"))
        else:
            units.append(Unit(text, "paragraph"))
        i += 1
    return units, notes, first_url
