"""The offline writer: an answer assembled from the retrieved passages' own sentences.

Every sentence of the retrieved passages gets one relevance score (``ExtractiveWriter.score``):
embedding similarity to the question from the knowledge base's own model, plus the share of the
question's content words it holds, plus — in FAQ documents — how close the question it answers is
to the user's question, plus a small prior for passages retrieval ranked higher. The weights are
per embedder (``bot/similarity.py``), not per corpus. The writer keeps the best 1–4 sentences
without near-duplicates and lays them out in reading order (document order within a source), each
cited; the citation's ``location`` is the section path, so headings and section numbers never
become part of a sentence. Whether to answer at all is not decided here but by the answerability
model (``bot/answerability.py``) over the evidence these scores provide.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from knowledge.glossary import Concept
from knowledge.lexicon import other_words, specific_tokens
from knowledge.retrieval import Passage
from knowledge.structure import CELL_SEP
from knowledge.text import (
    CJK_RUN_RE,
    contains_run,
    has_cjk,
    join_sentences,
    language,
    split_sentences,
    tokenize,
    weight,
)

from . import prompts
from .answer import Citation
from .guards import is_promotional
from .similarity import SentenceVectors, local_idf, overlap, words

MAX_SENTENCES = 4
MIN_SENTENCES = 2
# Words every career question shares; they say nothing about which sentence answers it.
GENERIC_TERMS = frozenset(
    "llm ai model language large job work career".split()
    + "大模型 模型 大语言模型 语言模型 大语言 人工智能 工作 岗位 职业 行业".split()
)
DUP_JACCARD = 0.6
# Chunks made of list items (or an FAQ answer, or a mix): a short line there names the item that follows.
LABELLED_KINDS = frozenset({"list_item", "answer", "mixed"})

_LIST_RE = re.compile(r"^\s*(?:[-*+•]\s+|\d+[.)]\s+|[①-⑳]\s*|[一二三四五六七八九十]+、\s*)")
_QUOTE_MARK_RE = re.compile(r"^(?:\s*>)+\s*")
_NUMBERING_RE = re.compile(r"^\d+(?:\.\d+)+\.?\s+")  # "1.1.2 " left over from a numbered heading
_BOLD_RE = re.compile(r"\*\*(.+?)\*\*|__(.+?)__")
_EMPH_RE = re.compile(r"(?<![\w*])[*_]([^*_\n]+?)[*_](?![\w*])")
_LINK_RE = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_EMBED_RE = re.compile(r"!?\[\[[^\]]*\]\]")
_FOOTNOTE_RE = re.compile(r"\[\^[^\]]*\]|\^\d+\b")
_CODE_RE = re.compile(r"`([^`]*)`")
_TAG_RE = re.compile(r"</?[A-Za-z][^<>]{0,200}>")


SENTENCE_MODEL = Path(__file__).resolve().parent / "data" / "sentence_model.json"


@dataclass(frozen=True)
class SentenceModel:
    """How well a sentence answers the question: bias + Σ weight·feature, a log-odds of holding the answer
    against another candidate of the same question (only the order within one question is learned).

    Fitted by ``benchmarks/fit_sentences.py`` (a sentence is a positive example when it holds a fact the
    answer must contain, from a document that answers the question); the file records what it was
    fitted on and its figures on the questions it was not fitted on.
    """

    weights: dict[str, float]
    bias: float = 0.0
    margin: float = 1.5  # keep sentences within this of the best one
    other_source_margin: float = 0.5  # ... and within this when they come from another document
    follow_bonus: float = 1.25  # the sentence right after a chosen one goes on answering
    unit_share_weight: float = 0.0  # the answer's first unit: best value + this × its share of retrieval
    unit_join_weight: float = 0.0  # another unit's sentence joins within other_source_margin with this × its share
    anchor_margin: float = math.inf  # an unanchored same-language sentence competes when this much above the anchored
    notes: dict[str, object] = field(default_factory=dict)

    def value(self, features: dict[str, float]) -> float:
        return self.bias + sum(w * features.get(k, 0.0) for k, w in self.weights.items())


# A broken install (no data file): relevance and what introduces it, nothing learned.
_FALLBACK_MODEL = SentenceModel({"dense": 1.0, "lexical": 2.0, "before_lift": 0.5, "intro_lift": 0.5})


@lru_cache(maxsize=1)
def sentence_model(path: Path = SENTENCE_MODEL) -> SentenceModel:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        sel = {k: float(data[k]) for k in ("margin", "other_source_margin", "follow_bonus", "unit_share_weight",
                                         "unit_join_weight", "anchor_margin")
               if k in data}
        return SentenceModel({str(k): float(v) for k, v in data["weights"].items()}, float(data["bias"]),
                             notes=dict(data.get("notes", {})), **sel)
    except (OSError, ValueError, KeyError, TypeError):
        return _FALLBACK_MODEL


def display_text(sentence: str) -> str:
    """The sentence as shown: no heading hashes, quote marks, list bullets, numbering, emphasis,
    footnote marks, code ticks, tags or link targets."""
    s = sentence.strip()
    s = re.sub(r"^#+\s*", "", s)
    s = _QUOTE_MARK_RE.sub("", s)
    s = _LIST_RE.sub("", s)
    s = _NUMBERING_RE.sub("", s)
    s = _BOLD_RE.sub(lambda m: m.group(1) or m.group(2), s)
    s = _EMPH_RE.sub(lambda m: m.group(1), s)
    s = _LINK_RE.sub(lambda m: m.group(1), s)
    s = _EMBED_RE.sub("", s)
    s = _FOOTNOTE_RE.sub("", s)
    s = _CODE_RE.sub(lambda m: m.group(1), s)
    s = _TAG_RE.sub("", s)
    s = s.replace("**", "").replace("__", "")
    return re.sub(r"\s+", " ", s).strip()


@dataclass
class Candidate:
    passage: Passage
    rank: int  # passage rank in the retrieval
    line: int
    index: int  # sentence index within the passage
    quote: str  # verbatim sentence
    shown: str  # display form
    score: float = 0.0
    dense: float = 0.0
    lexical: float = 0.0
    faq: float = 0.0  # similarity of the user's question to the FAQ question this sentence answers
    foreign: bool = False  # in the other language than the question
    before: str = ""  # the sentence (or label) right before it in its passage, display form
    intro: str = ""  # the nearest line above it in its passage that announces what follows ("…:")
    value: float = 0.0  # how well it answers the question: the selection score (SentenceModel)
    lead: str = ""  # the lead-in label shown in front of it ("AI platform PMs"), naming the item it explains
    features: dict[str, float] = field(default_factory=dict)


@dataclass
class Draft:
    text: str
    citations: list[Citation]
    best_score: float
    sentences: int


def candidates(passages: Sequence[Passage]) -> list[Candidate]:
    """Every quotable sentence of the passages (not headings, adverts, fragments or list intros)."""
    out: list[Candidate] = []
    seen: set[str] = set()
    for rank, p in enumerate(passages):
        idx = 0
        label = ""
        before = intro = ""
        lines = p.text.split("\n")
        labelled = p.kind in LABELLED_KINDS
        short = [labelled and bool(x.strip()) and _is_label(x) for x in lines]
        table = table_rows(lines)
        for li, line in enumerate(lines):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            if li in table:
                # A table row: its column names say what its cells are, not a lead-in or a list intro; the
                # header row itself is only names and is never quoted.
                label, intro = "", ""
                shown = table[li]
                if shown and line.strip() not in seen and not is_promotional(line):
                    idx += 1
                    seen.add(line.strip())
                    out.append(Candidate(p, rank, li, idx, p.row_quote(line.strip()), shown, before=before))
                    before = shown
                continue
            if li > 0 and _is_attribution(line, lines[li - 1]):
                # "— former hotel manager": who said the quotation above; it says nothing on its own.
                label, intro = "", ""
                continue
            if short[li] and li + 1 < len(lines) and short[li + 1] and not _is_item(line):
                # A run of short lines ("Financial" / "$3K to $5K stipend is low" / …): the first names
                # the group, the others are its items.
                label, before, intro = "", display_text(line), display_text(line).rstrip(":：")
                continue
            if short[li] and (li + 1 == len(lines) or short[li + 1]):
                if _is_item(line):  # an item of a list with no sentence punctuation: quotable as it is
                    idx += 1
                    item = display_text(line)
                    lead_in = intro.rstrip(":：")  # one colon between the intro and its item, never two
                    shown = item if not intro else f"{lead_in}：{item}" if has_cjk(intro) else f"{lead_in}: {item}"
                    prior, before = before, item
                    if line.strip() not in seen and not is_promotional(line) and not _mostly_address(item):
                        seen.add(line.strip())
                        out.append(Candidate(p, rank, li, idx, line.strip(), shown, before=prior, intro=intro))
                continue
            if short[li]:
                # A short line that names what the next one explains ("AI Platform PMs", a list
                # item's lead-in): shown in front of the next line's first sentence, never quoted.
                label = display_text(line).rstrip(":：")
                before = label
                continue
            sentences = split_sentences(line)
            for k, sentence in enumerate(sentences):
                idx += 1
                shown = display_text(sentence)
                marked = any(line.lstrip().startswith(lead_in) for lead_in in p.leads)
                if k == 0 and k + 1 < len(sentences) and _is_lead(shown, marked):
                    # "Research scientist vs. research engineer. This is a rare role…": a short opening
                    # phrase is the paragraph's lead-in, shown in front of the sentence it introduces.
                    label = shown.rstrip(".。:：")
                    continue
                lead = label if label and not _repeats_heading(label, p) else ""
                if lead:
                    shown = _labelled(label, shown)
                else:
                    lead = _inline_lead(shown)
                label = ""
                last = out[-1] if out else None
                if (
                    last is not None and last.passage is p and last.line == li and last.index == idx - 1
                    and weight(shown) < 40 and re.search(r"[.。!！;；]$", shown) and not is_promotional(sentence)
                ):
                    # A fragment too short to stand alone ("A typical log curve.") sums up the sentence
                    # before it: quoted together with it, as one verbatim stretch of the line.
                    start = line.find(last.quote)
                    end = line.find(sentence, start + len(last.quote)) if start >= 0 else -1
                    if end >= 0:
                        last.quote = line[start:end + len(sentence)]
                        last.shown = f"{last.shown}{'' if has_cjk(shown) else ' '}{shown}"
                        seen.add(sentence)
                        before = last.shown
                        idx -= 1
                        continue
                prior, before = before, shown
                if shown.endswith((":", "：")):
                    intro = shown  # "The skills that matter most:": the lines below answer it
                if (
                    sentence in seen
                    or weight(shown) < 40
                    or shown.endswith((":", "："))
                    or (not re.search(r"[.。!！?？;；”’\"')）]$", shown) and weight(shown) < 100)
                    or shown.rstrip("”’\"')）").endswith(("?", "？"))  # a question answers nothing
                    or is_promotional(sentence)
                    or "](" in sentence
                    or _mostly_address(shown)
                ):
                    continue
                seen.add(sentence)
                out.append(Candidate(p, rank, li, idx, sentence, shown, before=prior,
                                     intro=intro if intro != shown else "", lead=lead))
    return out


# English closed-class words that make a short phrase a clause (a finite verb, a subject pronoun):
# grammar, not vocabulary of any corpus.
_CLAUSE_WORDS = frozenset(
    "is are was were be been am has have had do does did can could will would shall should may might must "
    "i you we they he she it this that these those there".split()
)


def _repeats_heading(label: str, p: Passage) -> bool:
    """A lead-in that restates the section's own heading ("AI hardware engineer, accelerator engineer"
    under "AI hardware engineer"): the heading is already the citation's location, so it is dropped."""
    heading = (p.heading or (p.section.split("›")[-1] if p.section else "")).strip()
    if not heading:
        return False
    a, b = display_text(label).lower(), display_text(heading).lower()
    b = re.sub(r"^(?:chapter\s+)?\d+(?:\.\d+)*\.?\s*", "", b)
    return bool(b) and (a.startswith(b) or b.startswith(a))


_INLINE_LEAD_RE = re.compile(r"^([^:：.。!?！？;；,，]{2,60})[:：]\s*\S")


def _inline_lead(shown: str) -> str:
    """The name a sentence opens with before a colon ("Keep learning: The field moves fast…"), as a
    bold lead-in or list item writes it: at most six words (or a short Chinese phrase); "" if none."""
    m = _INLINE_LEAD_RE.match(shown)
    if not m:
        return ""
    name = m.group(1).strip()
    return name if (weight(name) <= 24 if has_cjk(name) else len(name.split()) <= 6) else ""


def _labelled(label: str, shown: str) -> str:
    """A lead-in label in front of the sentence it introduces: "Label: sentence", "标签：句子"; a label that is a
    question or exclamation (a bold "**Why now?**") already ends its clause and takes no colon."""
    cjk = has_cjk(label)
    if label.endswith(("?", "？", "!", "！")):
        return f"{label}{shown}" if cjk else f"{label} {shown}"
    return f"{label}：{shown}" if cjk else f"{label}: {shown}"


def _is_lead(shown: str, marked: bool = False) -> bool:
    """A paragraph's short opening phrase: at most six words with no clause punctuation, or a list of
    names ("Platform engineer, infrastructure engineer (PE)." — each part at most four words, no verb or
    subject pronoun in it): a lead-in label, not a sentence. An English phrase with a verb or subject pronoun
    ("It is a real head start.") is a short sentence unless the document marked it as a lead-in (bold:
    ``marked``), as in "**Who they are.** People whose…"."""
    if not marked and shown.rstrip().endswith(("?", "？", "!", "！")):
        return False  # a question or exclamation ("想要开始学习吗？", "Ready to start?") is a sentence of its own
    body = shown.rstrip(".。:：")
    if has_cjk(body):
        return 0 < weight(body) <= 24 and not re.search(r"[，,；;]", body)
    if 0 < len(body.split()) <= 6 and not re.search(r"[,;]", body):
        return marked or not _CLAUSE_WORDS.intersection(w.strip("()'\"").lower() for w in body.split())
    parts = [p.split() for p in body.split(",")]
    words = [w.strip("()").lower() for p in parts for w in p]
    return (
        1 < len(parts) and all(0 < len(p) <= 4 for p in parts) and len(words) <= 12
        and not re.search(r"[;:]", body) and not _CLAUSE_WORDS.intersection(words)
    )


_ATTRIBUTION_RE = re.compile(r"^(?:——|—|–|--)\s*\S")


def table_rows(lines: Sequence[str]) -> dict[int, str]:
    """The table rows of a passage (runs of two or more lines of cells), each with its display form.

    A run's first row is its header when it holds no figures (column names do not); a body row is then shown
    with the column names ("Full-time bootcamp — Share: 12%; Cost: 15,000"), the header row as "" (never quoted).
    Without a header the cells are shown as a plain enumeration. Never the readers' cell separators."""
    out: dict[int, str] = {}
    i = 0
    while i < len(lines):
        j = i
        while j < len(lines) and CELL_SEP in lines[j]:
            j += 1
        if j - i >= 2:
            rows = [[display_text(c) for c in lines[k].split(CELL_SEP)] for k in range(i, j)]
            header = rows[0] if not any(re.search(r"\d", c) for c in rows[0]) else None
            cjk = any(has_cjk(c) for r in rows for c in r)
            semi, colon, comma = ("，", "：", "，") if cjk else ("; ", ": ", ", ")
            for k, cells in zip(range(i, j), rows, strict=True):
                if header is not None and k == i:
                    out[k] = ""
                elif header is not None and len(cells) == len(header) and len(cells) > 1:
                    pairs = semi.join(_named_cell(h, v, colon) for h, v in zip(header[1:], cells[1:], strict=True))
                    out[k] = f"{cells[0]} — {pairs}"
                else:
                    out[k] = comma.join(c for c in cells if c)
        i = max(j, i + 1)
    return out


def _named_cell(name: str, value: str, colon: str) -> str:
    """One cell with its column name: "Share: 12%"; a name that asks or exclaims keeps its own mark
    ("On call? Usually", not "On call?: Usually"); a cell under no name is its value alone."""
    name = name.rstrip(":：").strip()
    if not name:
        return value
    if name.endswith(("?", "!")):
        return f"{name} {value}"
    if name.endswith(("？", "！")):
        return f"{name}{value}"
    return f"{name}{colon}{value}"


def _is_attribution(line: str, previous: str) -> bool:
    """A short line opening with a dash right after a finished sentence: the source of a quotation
    ("— former hotel manager", "—— 某公司的产品负责人"), not a list item (those follow an intro ending in ":")."""
    shown = display_text(line)
    prev = display_text(previous)
    return (
        bool(_ATTRIBUTION_RE.match(shown)) and weight(shown) <= 60
        and bool(re.search(r"[.。!！?？”’\"')）]$", prev))
    )


def _is_item(line: str) -> bool:
    """A short unpunctuated line that says something (at least three words, or a Chinese phrase), not a name."""
    shown = display_text(line)
    if has_cjk(shown):
        return weight(shown) >= 15
    return len(shown.split()) >= 3 and weight(shown) >= 15


def _is_label(line: str) -> bool:
    """A short line with no sentence end: a list item's name or a lead-in, not a sentence."""
    shown = display_text(line)
    ends = re.search(r"[.。!！?？;；,，:：”’\"')）]$", shown)
    return 0 < weight(shown) <= 60 and not ends


def mentioned(text: str) -> list[Concept]:
    """Glossary concepts (roles, skills, career terms) that ``text`` names, generic ones left out."""
    from knowledge.glossary import concepts

    toks = tokenize(text)
    return [c for c in concepts() if not (c.tokens & GENERIC_TERMS) and names(c, text, toks)]


def names(concept: Concept, text: str, toks: list[str] | None = None) -> bool:
    """Does ``text`` name the concept, in either language?"""
    low = text.lower()
    if any(v in low for v in concept.zh):
        return True
    if not any(ch.isascii() and ch.isalpha() for ch in text):
        return False
    toks = toks if toks is not None else tokenize(CJK_RUN_RE.sub(" ", low))
    return any(contains_run(toks, v) for v in concept.en)


_NUMBER_RE = re.compile(r"\d+(?:[.,]\d+)*")
_NAME_RE = re.compile(r"(?<=[\s(“\"'、，,])(?:[A-Z][A-Za-z0-9+#.-]*[A-Za-z0-9+#]|[A-Z]{2,})")
_LATIN_RE = re.compile(r"[A-Za-z][A-Za-z0-9+#.-]*")
_ITEM_SEP_RE = re.compile(r"[,，、;；]")


def _specifics(shown: str) -> tuple[int, int, int]:
    """(numbers, names, enumeration separators) in a sentence: what makes it specific rather than
    general. Names are capitalised words past a sentence's first word, or Latin words in Chinese text."""
    numbers = len(_NUMBER_RE.findall(shown))
    if has_cjk(shown):
        names = len(set(_LATIN_RE.findall(shown)))
    else:
        names = len({m for m in _NAME_RE.findall(shown)})
    return numbers, names, len(_ITEM_SEP_RE.findall(shown))


_URL_RE = re.compile(r"(?:https?://|www\.)\S+")


def _mostly_address(shown: str) -> bool:
    """A web address that makes up a third of the sentence or opens it: a link, not prose."""
    urls = _URL_RE.findall(shown)
    return bool(urls) and (shown.startswith(urls[0]) or 3 * sum(len(u) for u in urls) >= len(shown))


def _unit_of(p: Passage) -> tuple[str, str]:
    """What one answer is drawn from: a document, or in an FAQ one question's answer."""
    return p.source, p.question


def _unit(c: Candidate) -> tuple[str, str]:
    return _unit_of(c.passage)


def unit_shares(passages: Sequence[Passage]) -> dict[tuple[str, str], float]:
    """Each unit's (document's, or FAQ answer's) share of retrieval's fused score over the retrieved passages:
    how much of what retrieval found, reading whole passages, the unit holds. Only retrieved passages count:
    a chunk the writer reads because it sits next to one (its score borrowed) is no evidence of its own."""
    scores: dict[tuple[str, str], dict[str, float]] = {}
    for p in passages:
        scores.setdefault(_unit_of(p), {})[p.id] = p.score
    total = sum(s for unit in scores.values() for s in unit.values()) or 1.0
    return {u: sum(s.values()) / total for u, s in scores.items()}


def _anchored(c: Candidate, close_enough: float) -> bool:
    """Shares a content word with the question (or its introducing sentence or list lead-in does), or answers an
    FAQ question that matches it (as close in meaning as a sentence must be to be picked without a shared word)."""
    f = c.features
    return (c.lexical > 0 or c.faq >= close_enough or f.get("before_terms", 0.0) > 0
            or f.get("intro_terms", 0.0) > 0)


@lru_cache(maxsize=20000)
def _all_words(text: str) -> frozenset[str]:
    """Every token of a passage's text in both languages (a passage is read again for each question)."""
    return frozenset(words(text, cjk=True))


def _single_cjk(token: str) -> bool:
    """One Chinese character (大, 会) says little on its own; jieba also yields the whole word."""
    return len(token) == 1 and has_cjk(token)


def embed_text(c: Candidate) -> str:
    """What the embedder sees: the FAQ question it answers, else the innermost heading, gives a
    short sentence its topic."""
    head = (c.passage.question or c.passage.heading or "").strip()
    return f"{head}\n{c.shown}" if head and weight(head) <= 120 else c.shown


class ExtractiveWriter:
    """Scores, picks and orders sentences; never calls anything but the local embedder."""

    def __init__(self, vectors: SentenceVectors) -> None:
        self.vectors = vectors

    def score(
        self,
        question: str,
        passages: Sequence[Passage],
        context: str = "",
        concepts: Sequence[Concept] = (),
    ) -> list[Candidate]:
        """The one sentence-relevance score, for every candidate sentence.

        ``concepts`` are the glossary concepts (roles, skills) the question names: a sentence
        in the other language counts as matching when it names one of them.
        """
        cands = candidates(passages)
        if not cands:
            return []
        zh_question = has_cjk(question) or has_cjk(context)
        # A sentence is read with its context: the document title and section path above it and, in an
        # FAQ, the question it answers.
        sent_tokens = [
            words(f"{c.shown} {c.passage.title} {c.passage.section or c.passage.heading or ''} {c.passage.question}",
                  cjk=zh_question)
            for c in cands
        ]
        idf = local_idf(sent_tokens)
        # A question word no candidate sentence uses is the most specific one ("equity", "落户"): it
        # weighs as much as the rarest word that does occur, so leaving it unanswered shows.
        rarest = math.log(1 + len(sent_tokens))
        for t in set(words(f"{question} {context}", cjk=zh_question)):
            idf.setdefault(t, rarest)
        q_tokens = [t for t in words(question, cjk=zh_question) if t not in GENERIC_TERMS and not _single_cjk(t)]
        latin_q = [t for t in q_tokens if t.isascii()]
        specific = set(specific_tokens(question))  # the words worth finding in the other language
        ctx_tokens = [t for t in words(context, cjk=zh_question) if t not in GENERIC_TERMS and not _single_cjk(t)]
        vecs = self.vectors.passages([embed_text(c) for c in cands])
        qv = self.vectors.query(question)
        sims = vecs @ qv
        if context:
            sims = 0.8 * sims + 0.2 * (vecs @ self.vectors.query(context))
        faq = self._faq_similarity(qv, passages)
        top_fused = max((p.score for p in passages), default=0.0) or 1.0
        lang = language(question)
        cal = self.vectors.cal
        for c, toks, sim in zip(cands, sent_tokens, sims, strict=True):
            same_language = language(c.quote) == lang
            c.foreign = not same_language
            c.dense = float(sim)
            if not same_language:
                # The question's words this sentence names through the bilingual glossary (面试 for
                # "interview"), as a share of all its content words, like same-language overlap.
                named = f"{c.passage.heading}\n{c.quote}"
                covered = {t for k in concepts if names(k, named) for t in q_tokens if t in k.tokens}
                # ... and through the general lexicon (伦理 for "ethics"): a word the sentence writes in its language.
                held = _all_words(named)
                covered |= {t for t in q_tokens if t in specific and any(w in held for w in other_words(t))}
                c.lexical = len(covered) / len(set(q_tokens)) if q_tokens else 0.0
                if latin_q:  # names written the same in both languages (RLHF, ChatGPT)
                    c.lexical = max(c.lexical, overlap(latin_q, toks, idf) * len(set(latin_q)) / len(set(q_tokens)))
                bonus = cal.cross_lingual_bonus  # the embedder's own-language preference, given back
            else:
                c.lexical = overlap(q_tokens, toks, idf)
                bonus = 0.0
            if ctx_tokens and same_language:
                c.lexical = 0.8 * c.lexical + 0.2 * overlap(ctx_tokens, toks, idf)
            c.faq = faq.get(c.passage.id, 0.0)
            c.score = (
                c.dense + bonus + cal.lex_weight * c.lexical + cal.faq_weight * c.faq
                + cal.rank_weight * c.passage.score / top_fused
            )
        self._answer_features(cands, qv, set(words(question, cjk=zh_question)), idf, zh_question, top_fused)
        model = sentence_model()
        for c in cands:
            c.value = model.value(c.features)
        return cands

    def _answer_features(
        self, cands: list[Candidate], qv: np.ndarray, question: set[str], idf: dict[str, float],
        zh: bool, top_fused: float,
    ) -> None:
        """What the selection score reads, each on a scale that means the same for any corpus and embedder.

        Similarities are standardised over this question's candidates (cosine scales differ between
        models); the sentence's relevance is set against the relevance of what introduces it (the
        sentence before it, the line announcing its list); and how much it says beyond restating the
        question: its words the question does not use, numbers, names and enumerations.
        """
        dense = np.array([c.dense for c in cands], dtype=np.float64)
        mu, sd = float(dense.mean()), float(dense.std()) or 1.0
        scores = np.array([c.score for c in cands], dtype=np.float64)
        s_mu, s_sd = float(scores.mean()), float(scores.std()) or 1.0
        context = sorted({t for c in cands for t in (c.before, c.intro) if t})
        ctx_sim: dict[str, float] = {}
        if context:
            sims = self.vectors.passages(context) @ qv
            ctx_sim = {t: float(v) for t, v in zip(context, sims, strict=True)}
        q_content = {t for t in question if t not in GENERIC_TERMS and not _single_cjk(t)}
        for c in cands:
            own = (c.dense - mu) / sd
            toks = set(words(c.shown, cjk=zh or has_cjk(c.shown)))
            total = sum(idf.get(t, 1.0) for t in toks)
            novel = sum(idf.get(t, 1.0) for t in toks if t not in question) / total if total else 0.0
            numbers, names, items = _specifics(c.shown)

            def lift(text: str, own: float = own) -> float:
                return max(0.0, (ctx_sim[text] - mu) / sd - own) if text else 0.0

            def ctx_terms(text: str, c: Candidate = c) -> float:
                if not text or not q_content:
                    return 0.0
                return max(0.0, overlap(sorted(q_content), words(text, cjk=zh), idf) - c.lexical)

            c.features = {
                "relevance": (c.score - s_mu) / s_sd,
                "dense": own,
                "lexical": c.lexical,
                "faq_lift": max(0.0, (c.faq - mu) / sd - own) if c.faq else 0.0,
                "rank": c.passage.score / top_fused,
                "before_lift": lift(c.before),
                "before_terms": ctx_terms(c.before),
                "intro_lift": lift(c.intro),
                "intro_terms": ctx_terms(c.intro),
                "under_intro": 1.0 if c.intro else 0.0,
                "novel": novel,
                "numbers": math.log1p(numbers),
                "names": math.log1p(names),
                "items": math.log1p(items),
                "length": math.log(max(weight(c.shown), 1)),
                "opens": 1.0 if not c.before else 0.0,
                "foreign": 1.0 if c.foreign else 0.0,
            }

    def _faq_similarity(self, qv: object, passages: Sequence[Passage]) -> dict[str, float]:
        """Passage id -> cosine of the user's question to the FAQ question the passage answers."""
        asked = [p for p in passages if p.question]
        if not asked:
            return {}
        vecs = self.vectors.passages([p.question for p in asked])
        sims = vecs @ qv
        return {p.id: float(s) for p, s in zip(asked, sims, strict=True)}

    def select(self, cands: list[Candidate], model: SentenceModel | None = None,
               retrieved: Sequence[Passage] | None = None) -> list[Candidate]:
        """The best 1–4 sentences by the learned answer score: grounded ones first, the first from the
        strongest unit (document, or FAQ answer), others within a margin of it, a second document only when
        nearly as good, no near-duplicates. ``retrieved``: the passages retrieval returned, whose scores
        weigh each unit (default: the candidates' own passages)."""
        if not cands:
            return []
        cal = self.vectors.cal
        model = model or sentence_model()
        order = sorted(range(len(cands)), key=lambda i: -cands[i].value)
        vecs = self.vectors.passages([embed_text(c) for c in cands])
        chosen: list[int] = []
        # Anchored first: shares a content word with the question (itself, or the sentence or list lead-in that
        # introduces it), or answers a matching FAQ question. Other-language text is anchored only by naming what
        # the question names (a glossary concept, a term spelled the same in both): cross-language cosine alone let
        # a short unrelated Chinese sentence answer an English question. When nothing is anchored, closeness in
        # meaning alone grounds a sentence in the question's language — without shutting out a better-valued
        # sentence in the other language that names the same things.
        anchored = [i for i in order if _anchored(cands[i], cal.close_enough)]
        if anchored:
            top = cands[anchored[0]].value + model.anchor_margin
            keep = set(anchored)
            order = [i for i in order if i in keep or (not cands[i].foreign and cands[i].value >= top)]
        else:
            close = {i for i in order if not cands[i].foreign and cands[i].dense >= cal.close_enough}
            if close:
                top = max(cands[i].value for i in close)
                order = [i for i in order if i in close or cands[i].value > top]
        pool = set(order)
        # Which unit (document, or FAQ answer) answers is decided on the unit's evidence, not one sentence's: its
        # best sentence's value plus the weighted share of what retrieval found that it holds. The answer opens
        # with that unit's best sentence; within a unit the order stays the sentences' own.
        if retrieved is None:
            retrieved = list({c.passage.id: c.passage for c in cands}.values())
        share = unit_shares(retrieved)
        first = max(order, key=lambda i: cands[i].value + model.unit_share_weight * share.get(_unit(cands[i]), 0.0))
        chosen.append(first)
        seen: set[int] = {first}  # considered once: chosen, or passed over
        best = cands[first].value
        lent: set[tuple[str, str]] = set()  # units that joined thanks to their share of retrieval
        while len(chosen) < MAX_SENTENCES:
            # The next sentence of a chosen one's paragraph usually goes on answering ("This could be
            # through internships…"), and so do the other items of a chosen item's list and a list that
            # follows a chosen sentence: they compete with a bonus, grounded or not. A new paragraph is not
            # a continuation (an insert between answers often is an advert).
            follows = {(cands[j].passage.id, cands[j].line, cands[j].index + 1) for j in chosen}
            lists = {(cands[j].passage.id, cands[j].intro) for j in chosen if cands[j].intro}
            earliest: dict[str, int] = {}
            for j in chosen:
                pid = cands[j].passage.id
                earliest[pid] = min(earliest.get(pid, cands[j].index), cands[j].index)

            def effective(i: int, follows: set[tuple[str, int, int]] = follows, lists: set[tuple[str, str]] = lists,
                          earliest: dict[str, int] = earliest) -> float:
                c = cands[i]
                pid = c.passage.id
                nxt = (
                    (pid, c.line, c.index) in follows  # the next sentence of the same paragraph
                    or (pid, c.intro) in lists  # another item of a chosen item's list
                    or (bool(c.intro) and earliest.get(pid, c.index) < c.index)  # a list after a chosen sentence
                )
                return c.value + (model.follow_bonus if nxt else 0.0)

            options = [
                i for i in range(len(cands))
                if i not in chosen and i not in seen and (i in pool or effective(i) > cands[i].value)
            ]
            if not options:
                break
            i = max(options, key=effective)
            c, score = cands[i], effective(i)
            if score < best - model.margin:
                break
            seen.add(i)
            # Another document, or in an FAQ the answer to another question, has to be nearly as good
            # to join the answer; retrieval finding much of the question in it counts towards that.
            units = {_unit(cands[j]) for j in chosen}
            unit = _unit(c)
            near = score >= best - model.other_source_margin
            if unit in lent and c.value < best - model.other_source_margin:
                continue  # a unit let in on retrieval's evidence: its further sentences must be nearly as good alone
            if unit not in units and not near:
                if score + model.unit_join_weight * share.get(unit, 0.0) < best - model.other_source_margin:
                    continue
                lent.add(unit)
            toks = set(words(c.shown, cjk=has_cjk(c.shown)))
            dup = False
            for j in chosen:
                # Two items that name different things ("AI platform PMs: …", "AI product PMs: …") read
                # alike to the embedder, yet neither repeats the other.
                distinct = bool(c.lead and cands[j].lead and c.lead != cands[j].lead)
                if not distinct and float(vecs[i] @ vecs[j]) >= cal.dup_cosine:
                    dup = True
                    break
                other = set(words(cands[j].shown, cjk=has_cjk(cands[j].shown)))
                if toks and other and len(toks & other) / len(toks | other) >= DUP_JACCARD:
                    dup = True
                    break
            if not dup:
                chosen.append(i)
        return [cands[i] for i in chosen]

    def write(
        self,
        question: str,
        passages: Sequence[Passage],
        *,
        context: str = "",
        positions: dict[str, int] | None = None,
        concepts: Sequence[Concept] = (),
    ) -> Draft | None:
        """Score, select and compose in one go (None when no passage has a quotable sentence)."""
        cands = self.score(question, passages, context, concepts=concepts)
        if not cands:
            return None
        return self.compose(question, self.select(cands), max(c.score for c in cands), positions or {})

    def compose(self, question: str, picked: list[Candidate], best: float, positions: dict[str, int]) -> Draft:
        """Lead-in, then the sentences by source (the first picked sentence's source first, then by value), in
        document order, each cited."""
        source_rank: dict[str, int] = {}
        for c in [*picked[:1], *sorted(picked, key=lambda c: -c.value)]:
            source_rank.setdefault(c.passage.source, len(source_rank))
        picked = sorted(picked, key=lambda c: (source_rank[c.passage.source], _position(c, positions), c.line, c.index))
        lang = language(question)
        foreign = any(language(c.quote) != lang for c in picked)
        lead = prompts.pick(prompts.LEAD_IN_FOREIGN if foreign else prompts.LEAD_IN, lang)
        citations: list[Citation] = []
        paragraphs: list[list[str]] = []
        last_source = None
        for i, c in enumerate(picked):
            n = len(citations) + 1
            p = c.passage
            citations.append(Citation(n, p.source, p.title, p.url, c.quote, p.where))
            if p.source != last_source:
                paragraphs.append([])
                last_source = p.source
            follows = i > 0 and picked[i - 1].passage is p and c.index == picked[i - 1].index + 1
            continued = i + 1 < len(picked) and picked[i + 1].passage is p and picked[i + 1].index == c.index + 1
            paragraphs[-1].append(_with_marker(_clause_shown(c, follows, continued), n))
        body = "\n\n".join(join_sentences(p) for p in paragraphs)
        return Draft(f"{lead}\n{body}", citations, best, len(picked))


def _position(c: Candidate, positions: dict[str, int]) -> float:
    """Where the passage sits in its document; retrieval rank when unknown."""
    pos = positions.get(c.passage.text)
    return float(pos) if pos is not None else 1000.0 + c.rank


def _clause_shown(c: Candidate, follows: bool, continued: bool) -> str:
    """A clause cut at a semicolon, shown without the clause it was joined to: it ends with a full stop, not
    "…new to you [3];", and an English clause that went on from the one before it ("…role; the engineering
    around…") starts with a capital. Next to its neighbour clause in the answer it stays as written."""
    shown = c.shown
    m = re.search(r"([;；])([”’\"')）]*)$", shown)
    if m and not continued:
        shown = f"{shown[: m.start()]}{'。' if m.group(1) == '；' else '.'}{m.group(2)}"
    lines = c.passage.text.split("\n")
    mid_line = c.line < len(lines) and not lines[c.line].strip().startswith(c.quote)
    if not follows and mid_line and c.before.rstrip().endswith(";") and shown[:1].isascii() and shown[:1].islower():
        shown = shown[:1].upper() + shown[1:]
    return shown


def _with_marker(sentence: str, n: int) -> str:
    """Put the marker before the final full stop: 'text [1].' reads better than 'text. [1]' (and
    'required [1]!' than 'required![1]', which reads as image markup)."""
    m = re.search(r"([.。!！?？;；]+[”’\"')）]*)$", sentence)
    if m and m.group(1)[0] in ".;!?":
        return f"{sentence[: m.start()]} [{n}]{m.group(1)}"
    if m:
        return f"{sentence}[{n}]"
    return f"{sentence} [{n}]"


