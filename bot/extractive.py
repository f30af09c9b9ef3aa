"""The offline writer: an answer assembled from the retrieved passages' own sentences.

It scores every sentence of the retrieved passages against the question (embedding
similarity from the knowledge base's model plus word overlap), keeps the best few
without near-duplicates, and lays them out in reading order under a one-line lead-in
in the question's language. Each sentence is cited; its quote is the sentence exactly
as it appears in the source (the displayed form only loses markdown markup).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from knowledge.retrieval import Passage
from knowledge.text import has_cjk, language, split_sentences, weight

from . import prompts
from .answer import Citation
from .guards import is_promotional
from .similarity import SentenceVectors, local_idf, overlap, words

GENERIC_HEADINGS = {"summary", "introduction", "links", "topics", "overview", "conclusion", "contents", "broader impacts"}
MAX_SENTENCES = 4
MIN_SENTENCES = 2
SCORE_MARGIN = 0.035  # keep sentences within this of the best one
LEX_WEIGHT = 0.10
RANK_WEIGHT = 0.015
DUP_COSINE = 0.93
DUP_JACCARD = 0.6
# Answer-level check: below this best-sentence similarity the passages do not answer the question.
MIN_BEST_SCORE = 0.80

_LIST_RE = re.compile(r"^\s*(?:[-*+•]\s+|\d+[.)]\s+|[①-⑳]\s*|[一二三四五六七八九十]+、\s*)")
_BOLD_RE = re.compile(r"\*\*(.+?)\*\*|__(.+?)__")
_LINK_RE = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_EMBED_RE = re.compile(r"!?\[\[[^\]]*\]\]")


def display_text(sentence: str) -> str:
    """The sentence as shown: no heading hashes, list bullets, bold markers or link targets."""
    s = sentence.strip()
    s = re.sub(r"^#+\s*", "", s)
    s = _LIST_RE.sub("", s)
    s = _BOLD_RE.sub(lambda m: m.group(1) or m.group(2), s)
    s = _LINK_RE.sub(lambda m: m.group(1), s)
    s = _EMBED_RE.sub("", s)
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


@dataclass
class Draft:
    text: str
    citations: list[Citation]
    best_score: float
    sentences: int


def candidates(passages: Sequence[Passage], intros: Collection[str] = ()) -> list[Candidate]:
    """Every quotable sentence of the passages (not headings, adverts, fragments, or list intros
    except those of a section whose subsections are among the passages)."""
    out: list[Candidate] = []
    seen: set[str] = set()
    for rank, p in enumerate(passages):
        idx = 0
        for li, line in enumerate(p.text.split("\n")):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            for sentence in split_sentences(line):
                idx += 1
                shown = display_text(sentence)
                if p.id in intros and shown.endswith((":", "：")):
                    shown = shown[:-1] + ("。" if shown.endswith("：") else ".")
                if (
                    sentence in seen
                    or weight(shown) < 40
                    or shown.endswith((":", "："))
                    or is_promotional(sentence)
                    or "](" in sentence
                ):
                    continue
                seen.add(sentence)
                out.append(Candidate(p, rank, li, idx, sentence, shown))
    return out


def _heading_prefix(c: Candidate) -> str:
    """A subsection heading ('Translators and Interpreters') names the topic a sentence is about."""
    head = (c.passage.heading or "").strip()
    if not head or head.lower() in GENERIC_HEADINGS or weight(head) > 60:
        return ""
    if c.passage.text.lstrip().startswith("## "):  # a section intro, not a named role
        return ""
    head_words = set(words(head, cjk=has_cjk(head)))
    if head_words and len(head_words & set(words(c.shown, cjk=False))) / len(head_words) >= 0.5:
        return ""
    return head


class ExtractiveWriter:
    """Picks and orders sentences; never calls anything but the local embedder."""

    def __init__(self, vectors: SentenceVectors) -> None:
        self.vectors = vectors

    def score(
        self, question: str, passages: Sequence[Passage], context: str = "", intros: Collection[str] = ()
    ) -> list[Candidate]:
        cands = candidates(passages, intros)
        if not cands:
            return []
        zh_question = has_cjk(question) or has_cjk(context)
        sent_tokens = [words(c.shown + " " + (c.passage.heading or ""), cjk=zh_question) for c in cands]
        idf = local_idf(sent_tokens)
        q_tokens = words(question, cjk=zh_question)
        ctx_tokens = words(context, cjk=zh_question) if context else []
        vecs = self.vectors.passages([c.quote for c in cands])
        qv = self.vectors.query(question)
        sims = vecs @ qv
        if context:
            sims = 0.8 * sims + 0.2 * (vecs @ self.vectors.query(context))
        for c, toks, sim in zip(cands, sent_tokens, sims, strict=True):
            c.dense = float(sim)
            c.lexical = overlap(q_tokens, toks, idf)
            if ctx_tokens:
                c.lexical = 0.8 * c.lexical + 0.2 * overlap(ctx_tokens, toks, idf)
            c.score = c.dense + LEX_WEIGHT * c.lexical + RANK_WEIGHT / (1 + c.rank)
        return cands

    def select(self, cands: list[Candidate]) -> list[Candidate]:
        if not cands:
            return []
        order = sorted(range(len(cands)), key=lambda i: -cands[i].score)
        vecs = self.vectors.passages([c.quote for c in cands])
        best = cands[order[0]].score
        chosen: list[int] = []
        for i in order:
            c = cands[i]
            if len(chosen) >= MAX_SENTENCES:
                break
            limit = SCORE_MARGIN if len(chosen) >= MIN_SENTENCES else 2 * SCORE_MARGIN
            if c.score < best - limit:
                break
            toks = set(words(c.shown, cjk=has_cjk(c.shown)))
            dup = False
            for j in chosen:
                if float(vecs[i] @ vecs[j]) >= DUP_COSINE:
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
        children: dict[str, list[str]] | None = None,
    ) -> Draft | None:
        """The cited answer, or None when no sentence is close enough to the question to answer it.

        ``children`` maps a section intro's passage id to its subsections' ids: when the
        intro is the best match, the answer is the intro plus the best sentence of each
        subsection (the roles it lists), not four sentences from wherever.
        """
        children = children or {}
        cands = self.score(question, passages, context, intros=children.keys())
        if not cands:
            return None
        picked = self.select(cands)
        best = max(c.score for c in cands)
        picked = self.structured(cands, picked, children) or picked
        if not picked or max(c.dense for c in picked) < MIN_BEST_SCORE:
            return Draft("", [], best, 0)
        return self.compose(question, picked, best, positions or {})

    def structured(
        self, cands: list[Candidate], picked: list[Candidate], children: dict[str, list[str]]
    ) -> list[Candidate] | None:
        """Intro + one sentence per subsection, when a picked sentence opens a listed section."""
        if not picked:
            return None
        top = picked[0].score
        intro = next((c for c in picked if c.passage.id in children and c.score >= top - SCORE_MARGIN), None)
        if intro is None:
            return None
        out = [intro]
        for kid in children[intro.passage.id]:
            own = [c for c in cands if c.passage.id == kid]
            if own:
                out.append(max(own, key=lambda c: c.score))
        return out if len(out) > 1 else None

    def compose(self, question: str, picked: list[Candidate], best: float, positions: dict[str, int]) -> Draft:
        # Reading order: sources in order of their best sentence, then position in the document.
        source_rank: dict[str, int] = {}
        for c in sorted(picked, key=lambda c: -c.score):
            source_rank.setdefault(c.passage.source, len(source_rank))
        picked = sorted(picked, key=lambda c: (source_rank[c.passage.source], _position(c, positions), c.line, c.index))
        lang = language(question)
        foreign = any(language(c.quote) != lang for c in picked)
        lead = prompts.pick(prompts.LEAD_IN_FOREIGN if foreign else prompts.LEAD_IN, lang)
        citations: list[Citation] = []
        paragraphs: list[list[str]] = []
        last_source = None
        used_heads: set[tuple[str, str]] = set()
        for c in picked:
            n = len(citations) + 1
            citations.append(Citation(n, c.passage.source, c.passage.title, c.passage.url, c.quote))
            head = _heading_prefix(c)
            shown = c.shown
            if head and (c.passage.id, head) not in used_heads:
                used_heads.add((c.passage.id, head))
                shown = f"{head}: {shown}"
            if c.passage.source != last_source:
                paragraphs.append([])
                last_source = c.passage.source
            paragraphs[-1].append(_with_marker(shown, n))
        body = "\n\n".join(_join(p) for p in paragraphs)
        return Draft(f"{lead}\n{body}", citations, best, len(picked))


def _position(c: Candidate, positions: dict[str, int]) -> float:
    """Where the passage sits in its document; retrieval rank when unknown."""
    pos = positions.get(c.passage.text)
    return float(pos) if pos is not None else 1000.0 + c.rank


def _with_marker(sentence: str, n: int) -> str:
    """Put the marker before the final full stop: 'text [1].' reads better than 'text. [1]'."""
    m = re.search(r"([.。!！?？;；]+[”’\"')）]*)$", sentence)
    if m and m.group(1)[0] in ".;":
        return f"{sentence[: m.start()]} [{n}]{m.group(1)}"
    if m:
        return f"{sentence}[{n}]"
    return f"{sentence} [{n}]"


def _join(sentences: list[str]) -> str:
    out = ""
    for s in sentences:
        if not out:
            out = s
        elif has_cjk(out[-1]) or out.endswith(("。", "！", "？", "]")) and has_cjk(s[:1]):
            out += s
        else:
            out += " " + s
    return out
