"""From a reader's flat stream of units to a ``Parsed``: boilerplate removal, FAQ pairing, section paths.

Readers (markdown, plain text) only say what each piece of the source *is*: a heading with its level,
a paragraph, a list item, a quote, a table row, code, a footnote, a question-shaped line (a bold or
heading line ending in "?", a "Q:"/"问：" line), an answer marker ("A:"/"答："), a thematic break.
Everything that depends on the whole document happens here, once, for every reader:

- cleaning: comment-form footers, advert / call-to-action tails and single advert lines, headings
  left with nothing under them (the same mechanisms ``ingest.clean`` applies to lines);
- FAQ pairing: a question followed by its answer blocks becomes answer blocks carrying the question;
  a question with no answer stays an ordinary paragraph;
- section paths: the heading stack above each block, numbering kept apart.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, replace
from typing import Literal

from .adverts import SHORT_WEIGHT, advert_score, is_advert, trailing_advert
from .structure import Block, BlockKind, Parsed
from .text import weight

PSEUDO_HEADING_LEVEL = 7  # a wholly bold short line used as a heading: below every real heading level
UnitKind = Literal["heading", "paragraph", "list_item", "quote", "table", "code", "footnote", "rule"]


@dataclass
class Unit:
    """One piece of a source as a reader saw it, in reading order (display text, no markup)."""

    text: str
    kind: UnitKind = "paragraph"
    level: int = 0  # headings: 1 (outermost) ..
    numbering: str | None = None  # headings and questions: "1.2.3", "8.45", "一"
    question: bool = False  # looks like a question line (bold/heading ending in ?, "Q:", "问：")
    answer: bool = False  # opens with an answer marker ("A:", "答：")
    section_hint: tuple[str, ...] | None = None  # footnotes: the section of their first reference
    lead: str = ""  # the emphasised words opening the text ("**ML platform engineer** builds …"), as shown


# --- numbering and markers ----------------------------------------------------------------------

_CN_NUM = "一二三四五六七八九十百零〇"
_NUMBERING_RE = re.compile(
    r"^\s*(?:"
    r"(?P<dotted>\d{1,3}(?:[.．]\d{1,3})+)[.．]?(?=\s|[\u4e00-\u9fff])"  # 1.2 / 1.2.3. / 8.45
    r"|(?P<single>\d{1,3})[.．、)）]"  # 1. / 1、 / 1)  ("3 Ways to ..." is a title, not a number)
    r"|[(（](?P<paren>\d{1,3}|[" + _CN_NUM + r"]{1,3})[)）]"  # (1) / （一）
    r"|(?P<cn>[" + _CN_NUM + r"]{1,3})[、.．]"  # 一、
    r"|(?P<chap>第[\d" + _CN_NUM + r"]{1,4}[章节部分篇讲课])"  # 第一章
    r"|(?:chapter|part|section)\s+(?P<word>\d{1,3}|[ivxlc]{1,6})\b[.:]?"  # Chapter 3:
    r"|(?-i:(?P<roman>[IVXLC]{1,6}))[.)](?=\s)"  # IV. (capitals: "i.am.ai" is a name)
    r")\s*",
    re.I,
)


def split_numbering(text: str) -> tuple[str | None, str]:
    """("1.1.2", "Research engineer") from "1.1.2 Research engineer"; (None, text) when unnumbered."""
    m = _NUMBERING_RE.match(text)
    if not m:
        return None, text.strip()
    rest = text[m.end():].strip()
    if not rest or weight(rest) < 2:
        return None, text.strip()
    return m.group(0).strip(), rest


Q_MARKER_RE = re.compile(r"^\s*(?:Q(?:uestion)?\s*\d{0,3}|问题?\s*\d{0,3}|提问)\s*[:：.．]\s*", re.I)
A_MARKER_RE = re.compile(r"^\s*(?:A(?:nswer)?\s*\d{0,3}|答案?|回答|解答)\s*[:：.．]\s*", re.I)
QUESTION_END_RE = re.compile(r"[?？][\s)）\]」』”\"']*$")


_INLINE_QA_RE = re.compile(r"^(?P<q>.+?[?？])\s*(?P<a>(?:A(?:nswer)?|答案?|回答)\s*[:：].*)$", re.S)


def split_qa(text: str, kind: UnitKind = "paragraph") -> list[Unit] | None:
    """A "Q:"-marked text as its question unit, plus its answer unit when "A:" follows on the same line or later."""
    if not Q_MARKER_RE.match(text):
        return None
    lines = text.split("\n")
    for n in range(1, len(lines)):
        if A_MARKER_RE.match(lines[n]):
            return [Unit(" ".join(lines[:n]), "paragraph", question=True),
                    Unit("\n".join(lines[n:]), kind, answer=True)]
    inline = _INLINE_QA_RE.match(lines[0])
    if inline and len(lines) == 1:
        return [Unit(inline.group("q").strip(), "paragraph", question=True), Unit(inline.group("a"), kind, answer=True)]
    return [Unit(text.replace("\n", " "), "paragraph", question=True)]


def ends_as_question(text: str) -> bool:
    return QUESTION_END_RE.search(text) is not None


# --- cleaning (the mechanisms of ingest.clean, on units) ---------------------------------------

COMMENT_START_RE = re.compile(
    r"^\s*(leave a (reply|comment)|post a comment|\d+\s+comments?|comments?\s*$|share this:?|like this:?|"
    r"related posts?:?|you may also like|subscribe to (our|the) newsletter|cancel reply)\s*$",
    re.I,
)
COMMENT_LINE_RE = re.compile(
    r"(your email address will not be published|required fields are marked|save my name, email|"
    r"notify me of (new|follow-up) (posts|comments))",
    re.I,
)
TITLE_MAX_WEIGHT = 60  # an advert's own title line ("零基础如何学习大模型 AI", "【福利】"): short, no full stop
_SENTENCE_END_RE = re.compile(r"[。.!！]$")


def _is_title_line(u: Unit) -> bool:
    return (u.kind in ("heading", "paragraph") and not (u.question or u.answer)
            and weight(u.text) <= TITLE_MAX_WEIGHT and not _SENTENCE_END_RE.search(u.text))


def clean_units(units: list[Unit], notes: list[str]) -> list[Unit]:
    """Drop comment-form footers, advert tails / lines and headings left empty; say what went in ``notes``."""
    units = [u for u in units if u.text.strip() or u.kind == "rule"]
    content = [i for i, u in enumerate(units) if u.kind != "rule"]
    if not content:
        return units

    # Comment-form footer: a marker in the second half of the document cuts the rest.
    half = content[len(content) // 2]
    for i in content:
        t = units[i].text
        if i >= half and (COMMENT_START_RE.match(t) or COMMENT_LINE_RE.search(t)):
            cut = sum(1 for u in units[i:] if u.kind != "rule")
            notes.append(f"comment-form footer ({cut} line(s))")
            units = units[:i]
            break

    # An advert sentence tacked onto the end of a content paragraph (an answer): the paragraph stays, the advert
    # goes — before the units are judged whole, so a short answer is not dropped with its advert.
    trimmed = 0
    for n, u in enumerate(units):
        if u.kind in ("paragraph", "list_item", "quote") and not u.question:
            at = trailing_advert(u.text)
            if at is not None and weight(u.text[:at]) > TITLE_MAX_WEIGHT:
                units[n] = replace(u, text=u.text[:at].rstrip())
                trimmed += 1
    if trimmed:
        notes.append(f"{trimmed} advert sentence(s) cut from the end of a paragraph")

    # Advert tail: the first promo unit after which promo units keep coming to the end.
    asked = [i for i, u in enumerate(units) if u.question]
    between = (asked[0], asked[-1]) if asked else (len(units), -1)
    promo = [i for i, u in enumerate(units)
             if u.kind != "rule" and (is_advert(u.text) or _set_apart_advert(units, i, between))]
    if promo:
        content = [i for i, u in enumerate(units) if u.kind != "rule"]
        tail_start = None
        qa = [i for i, u in enumerate(units) if u.question or u.answer]
        for n, i in enumerate(promo):
            later = len(promo) - n
            rest = len(content) - bisect.bisect_left(content, i)
            if qa and qa[0] < i < qa[-1]:
                continue  # the document's own question/answer pattern goes on after it: an advert inside, not the tail
            if (
                later >= 3
                and i >= content[len(content) // 3]
                and later >= 0.15 * rest
                and promo[-1] >= content[max(0, len(content) - 5)]
            ):
                tail_start = i
                break
        if tail_start is not None:
            # The advert's pitch before it: units with a commercial cue ("…学了这门课程后…"), and its own short
            # title lines (at most three in a row), never reaching into the first third of the document.
            floor = content[len(content) // 3]
            start, back = tail_start, 0
            while start - 1 > floor and back < 3:
                prev = units[start - 1]
                if prev.kind == "rule":
                    start -= 1
                    continue
                if prev.answer or (prev.question and not advert_score(units[start].text).commercial):
                    break  # a question whose answer is content, not the pitch: the document's own Q&A
                if weight(prev.text) <= TITLE_MAX_WEIGHT and not _SENTENCE_END_RE.search(prev.text):
                    start -= 1
                    back += 1
                elif advert_score(prev.text).commercial:
                    start -= 1
                    back = 0
                else:
                    break
            removed = sum(1 for u in units[start:] if u.kind != "rule")
            notes.append(f"promotional block ({removed} line(s): QR code / WeChat / free resource pack)")
            units = units[:start]
        singles = {i for i in promo if i < len(units)}
        if singles:
            singles |= _advert_surroundings(units, singles)
            units = [u for i, u in enumerate(units) if i not in singles]
            notes.append(f"{len(singles)} promotional line(s)")

    # Headings with nothing under them (before the next heading of the same or a higher level).
    out: list[Unit] = []
    empty: list[str] = []
    following_heading_level: list[int | None] = [None] * len(units)  # level of the next non-rule unit if heading
    has_next: list[bool] = [False] * len(units)
    nxt: Unit | None = None
    for i in range(len(units) - 1, -1, -1):
        if nxt is not None:
            has_next[i] = True
            following_heading_level[i] = nxt.level if nxt.kind == "heading" else 0
        if units[i].kind != "rule":
            nxt = units[i]
    for i, u in enumerate(units):
        if u.kind == "heading":
            lvl = following_heading_level[i]
            if not has_next[i] or (lvl and lvl <= u.level):
                empty.append(u.text)
                continue
        out.append(u)
    if len(empty) <= 3:
        notes.extend(f"empty heading {h!r}" for h in empty)
    else:
        notes.append(f"{len(empty)} empty headings")
    return out


_LABEL_RE = re.compile(r"^\s*[【\[［〖][^】\]］〗]{1,16}[】\]］〗]")


def _previous(units: list[Unit], i: int) -> int:
    """The index of the last unit before ``i`` that is not a thematic break (-1 when none)."""
    j = i - 1
    while j >= 0 and units[j].kind == "rule":
        j -= 1
    return j


def _set_apart_advert(units: list[Unit], i: int, between: tuple[int, int]) -> bool:
    """A short commercial block set apart inside the Q&A flow — after an answer, labelled ("【…】", a title line of
    its own, a thematic break) rather than continuing the answer above it — counts as an advert on weaker evidence
    than ``is_advert`` asks of text anywhere: two commercial cues of any category. The first block after a question
    is that question's answer and never counts. ``between`` is the index of the first and of the last question."""
    u = units[i]
    if u.question or u.answer or u.kind not in ("paragraph", "list_item", "quote"):
        return False
    if not between[0] < i < between[1]:
        return False  # not between two Q&A pairs
    score = advert_score(u.text)
    if score.weight > SHORT_WEIGHT or len(score.cues) < 2:
        return False
    j = _previous(units, i)
    prev = units[j] if j >= 0 else None
    if prev is None or prev.question:
        return False  # the first block after a question is its answer, whatever it mentions
    after_rule = j < i - 1
    labelled = _LABEL_RE.match(u.text) is not None
    titled = _is_title_line(prev) and (
        prev.kind == "heading" or _LABEL_RE.match(prev.text) is not None or weight(prev.text) <= TITLE_MAX_WEIGHT // 2)
    if titled:
        k = _previous(units, j)
        if k >= 0 and units[k].question:
            return False  # that "title" is the answer's own first line
    return labelled or titled or after_rule


def _advert_surroundings(units: list[Unit], adverts: set[int]) -> set[int]:
    """The advert units' own short title lines, and the short commercial lines after them, when the advert run
    fills the gap up to the next question, heading, rule or the end (what sits between two Q&A pairs)."""
    extra: set[int] = set()
    for i in sorted(adverts):
        end = i
        while end + 1 < len(units) and end + 1 not in adverts:
            nxt = units[end + 1]
            if nxt.kind == "rule" or nxt.question or nxt.kind == "heading" or nxt.answer:
                break
            score = advert_score(nxt.text)
            if score.weight > TITLE_MAX_WEIGHT * 2 or not score.categories:
                break
            end += 1
        after = units[end + 1] if end + 1 < len(units) else None
        if after is not None and end + 1 not in adverts and not (
            after.kind in ("rule", "heading") or (after.question and not after.answer)
        ):
            continue  # content goes on after the advert: its neighbours are that content's, not the advert's
        extra.update(range(i + 1, end + 1))
        start, back = i, 0
        while start > 0 and back < 2 and start - 1 not in adverts and _is_title_line(units[start - 1]):
            before = _previous(units, start - 1)
            if before >= 0 and units[before].question:
                break  # the first block after a question is its answer, not an advert's title
            start -= 1
            back += 1
            if units[start].kind == "heading":
                break  # a heading is the advert's title only when nothing else sits under it
        extra.update(range(start, i))
    return extra - adverts


# --- FAQ pairing and section paths ------------------------------------------------------------


def build(units: list[Unit], notes: list[str]) -> list[Block]:
    """Blocks with section paths; question units paired with the answers that follow them."""
    blocks: list[Block] = []
    stack: list[tuple[int, str, str | None]] = []  # (level, title, numbering)
    question: str | None = None
    q_numbering: str | None = None
    q_level = 0  # >0 when the question is a heading: deeper headings stay inside its answer
    q_answers = 0
    unanswered = 0

    def section() -> tuple[str, ...]:
        return tuple(t for _, t, _ in stack)

    def close_question(kept_as: Unit | None) -> None:
        nonlocal question, q_numbering, q_level, q_answers, unanswered
        if question is not None and q_answers == 0 and kept_as is not None and kept_as.kind != "heading":
            unanswered += 1
            text = f"{q_numbering} {question}" if q_numbering else question
            blocks.append(Block(text, "paragraph", section(), stack[-1][2] if stack else None))
        question, q_numbering, q_level, q_answers = None, None, 0, 0

    pending: Unit | None = None  # the question unit awaiting its answer
    for u in units:
        if u.kind == "rule":
            close_question(pending)
            pending = None
            continue
        if u.kind == "heading":
            if question is not None and q_level and u.level > q_level:
                # A sub-heading inside a heading question's answer: a section of the answer, same question.
                while stack and stack[-1][0] >= u.level:
                    stack.pop()
                stack.append((u.level, u.text, u.numbering))
                continue
            close_question(pending)
            pending = None
            if u.question:
                # A question heading is still a heading (the citation's location), and its section is answers.
                while stack and stack[-1][0] >= u.level:
                    stack.pop()
                question, q_numbering = _question_text(u)
                q_level = u.level
                stack.append((u.level, question, q_numbering))
                pending = u
                continue
            while stack and stack[-1][0] >= u.level:
                stack.pop()
            stack.append((u.level, u.text, u.numbering))
            continue
        if u.question and not u.answer:
            close_question(pending)
            while stack and stack[-1][0] >= PSEUDO_HEADING_LEVEL:
                stack.pop()  # a bold question ends a bold pseudo-heading's section, as its sibling
            question, q_numbering = _question_text(u)
            q_level = 0
            pending = u
            continue
        text = A_MARKER_RE.sub("", u.text, count=1) if u.answer else u.text
        if not text.strip():
            continue
        if question is not None:
            q_answers += 1
            blocks.append(Block(text, "answer", section(), q_numbering, question=question,
                                lead=u.lead if text.startswith(u.lead) else ""))
            continue
        kind: BlockKind = u.kind if u.kind in ("paragraph", "list_item", "quote", "table", "code", "footnote") \
            else "paragraph"  # type: ignore[assignment]
        sec = u.section_hint if u.section_hint is not None else section()
        blocks.append(Block(text, kind, sec, stack[-1][2] if stack and u.section_hint is None else None,
                            lead=u.lead if text.startswith(u.lead) else ""))
    close_question(pending)
    if unanswered:
        notes.append(f"{unanswered} question(s) without an answer kept as text")
    return blocks


def _question_text(u: Unit) -> tuple[str, str | None]:
    text = Q_MARKER_RE.sub("", u.text, count=1).strip()
    numbering = u.numbering
    if numbering is None:
        numbering, text = split_numbering(text)
    return text, numbering


def assemble(units: list[Unit], *, notes: list[str] | None = None, **meta: object) -> Parsed:
    """Clean, pair and place the units; ``meta`` are Parsed fields (title, url, date, tags)."""
    notes = list(notes or [])
    cleaned = clean_units(units, notes)
    blocks = build(cleaned, notes)
    parsed = Parsed(blocks=blocks, notes=notes)
    for key, value in meta.items():
        if value is not None:
            setattr(parsed, key, value)
    return parsed
