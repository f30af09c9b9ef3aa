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

from knowledge.glossary import Concept
from knowledge.retrieval import Passage
from knowledge.text import has_cjk, language, split_sentences, tokenize, weight

from . import prompts
from .answer import Citation
from .guards import is_promotional
from .similarity import Calibration, SentenceVectors, local_idf, overlap, words

GENERIC_HEADINGS = {
    "summary", "introduction", "links", "topics", "overview", "conclusion", "contents", "broader impacts",
}
MAX_SENTENCES = 4
MIN_SENTENCES = 2
GENERIC_TERMS = frozenset(
    "llm ai model language large job work career".split()
    + "大模型 模型 大语言模型 语言模型 大语言 人工智能 工作 岗位 职业 行业".split()
)
DUP_JACCARD = 0.6

_CJK_RUN_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
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
    foreign: bool = False  # in the other language than the question


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
                    or (not re.search(r"[.。!！?？;；”’\"')）]$", shown) and weight(shown) < 100)
                    or is_promotional(sentence)
                    or "](" in sentence
                ):
                    continue
                seen.add(sentence)
                out.append(Candidate(p, rank, li, idx, sentence, shown))
    return out


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
    toks = toks if toks is not None else tokenize(_CJK_RUN_RE.sub(" ", low))
    return any(_contains(toks, v) for v in concept.en)


def _contains(seq: list[str], sub: tuple[str, ...]) -> bool:
    n = len(sub)
    return n > 0 and any(tuple(seq[i:i + n]) == sub for i in range(len(seq) - n + 1))


def answers(picked: Sequence[Candidate], cal: Calibration) -> bool:
    """Do these sentences answer the question, or are they only about the same general area?

    One picked sentence must score high enough and share a content word with the
    question (or be very close in meaning).
    """
    return any(c.score >= cal.min_best and (c.lexical > 0 or c.dense >= cal.close_enough) for c in picked)


def _heading_match(c: Candidate, q_tokens: list[str]) -> float:
    """Share of the question's words in the sentence's section heading ("Jobs at Risk ...").

    A heading says what its section is about, so matching it counts on top of the
    sentence's own words (like a title field in search engines).
    """
    head = (c.passage.heading or "").strip()
    if not head or head.lower() in GENERIC_HEADINGS or not q_tokens:
        return 0.0
    return overlap(q_tokens, words(head, cjk=has_cjk(head)))


def _single_cjk(token: str) -> bool:
    """One Chinese character (大, 会) says little on its own; jieba also yields the whole word."""
    return len(token) == 1 and has_cjk(token)


def embed_text(c: Candidate) -> str:
    """What the embedder sees: the section heading gives a sentence its topic ("Jobs at Risk ...")."""
    head = (c.passage.heading or "").strip()
    if head and head.lower() not in GENERIC_HEADINGS:
        return f"{head}\n{c.shown}"
    return c.shown


def _heading_prefix(c: Candidate) -> str:
    """A subsection heading ('Translators and Interpreters') names the topic a sentence is about."""
    head = (c.passage.heading or "").strip()
    if not head or head.lower() in GENERIC_HEADINGS or weight(head) > 60:
        return ""
    if " › " not in c.passage.section:  # a top-level section's intro, not a named subsection
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
        self,
        question: str,
        passages: Sequence[Passage],
        context: str = "",
        intros: Collection[str] = (),
        concepts: Sequence[Concept] = (),
    ) -> list[Candidate]:
        """Score every candidate sentence.

        ``concepts`` are the glossary concepts (roles, skills) the question names: a sentence
        in the other language counts as matching when it names one of them.
        """
        cands = candidates(passages, intros)
        if not cands:
            return []
        zh_question = has_cjk(question) or has_cjk(context)
        sent_tokens = [words(c.shown + " " + (c.passage.heading or ""), cjk=zh_question) for c in cands]
        idf = local_idf(sent_tokens)
        q_tokens = [t for t in words(question, cjk=zh_question) if t not in GENERIC_TERMS and not _single_cjk(t)]
        latin_q = [t for t in q_tokens if t.isascii()]
        ctx_tokens = [t for t in words(context, cjk=zh_question) if t not in GENERIC_TERMS and not _single_cjk(t)]
        vecs = self.vectors.passages([embed_text(c) for c in cands])
        qv = self.vectors.query(question)
        sims = vecs @ qv
        if context:
            sims = 0.8 * sims + 0.2 * (vecs @ self.vectors.query(context))
        lang = language(question)
        cal = self.vectors.cal
        for c, toks, sim in zip(cands, sent_tokens, sims, strict=True):
            same_language = language(c.quote) == lang
            c.foreign = not same_language
            if not same_language:
                named = f"{c.passage.heading}\n{c.quote}"
                c.lexical = sum(1 for k in concepts if names(k, named)) / len(concepts) if concepts else 0.0
                if latin_q:  # names written the same in both languages (RLHF, ChatGPT)
                    c.lexical = max(c.lexical, overlap(latin_q, toks, idf))
                c.dense = float(sim) + (cal.cross_lingual_bonus if c.lexical > 0 else 0.0)
            else:
                c.dense = float(sim)
                c.lexical = overlap(q_tokens, toks, idf)
            if ctx_tokens and same_language:
                c.lexical = 0.8 * c.lexical + 0.2 * overlap(ctx_tokens, toks, idf)
            words_score = c.lexical + _heading_match(c, q_tokens)
            c.score = c.dense + cal.lex_weight * words_score + cal.rank_weight / (1 + c.rank)
            if c.shown.rstrip("”’\"')）").endswith(("?", "？")):
                c.score -= cal.question_penalty
        return cands

    def select(self, cands: list[Candidate]) -> list[Candidate]:
        if not cands:
            return []
        cal = self.vectors.cal
        order = sorted(range(len(cands)), key=lambda i: -cands[i].score)
        vecs = self.vectors.passages([embed_text(c) for c in cands])
        best = cands[order[0]].score
        chosen: list[int] = []
        grounded = [i for i in order if cands[i].lexical > 0 or cands[i].dense >= cal.close_enough]
        if grounded and not cands[grounded[0]].foreign:
            # The answer is in the question's language: other-language text may join it only when
            # it names what the question names (a glossary concept, a term spelled the same in
            # both). Closeness alone let "我本来是一个在大厂做推荐算法的工程师" into an answer about
            # becoming an ML engineer.
            grounded = [i for i in grounded if not cands[i].foreign or cands[i].lexical > 0]
        if grounded:
            # Sentences that share a content word with the question (or are very close in
            # meaning) go first: same-language filler otherwise outranks the real answer.
            order = grounded
            best = cands[order[0]].score
        for i in order:
            c = cands[i]
            if len(chosen) >= MAX_SENTENCES:
                break
            limit = cal.score_margin if len(chosen) >= MIN_SENTENCES else 2 * cal.score_margin
            if c.score < best - limit:
                break
            other_source = chosen and c.passage.source != cands[chosen[0]].passage.source
            if other_source and c.score < best - cal.other_source_margin:
                continue  # a second source has to be nearly as good to join the answer
            toks = set(words(c.shown, cjk=has_cjk(c.shown)))
            dup = False
            for j in chosen:
                if float(vecs[i] @ vecs[j]) >= cal.dup_cosine:
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
        concepts: Sequence[Concept] = (),
    ) -> Draft | None:
        """The cited answer, or None when no sentence is close enough to the question to answer it.

        ``children`` maps a section intro's passage id to its subsections' ids: when the
        intro is the best match, the answer is the intro plus the best sentence of each
        subsection (the roles it lists), not four sentences from wherever.
        """
        children = children or {}
        cands = self.score(question, passages, context, intros=children.keys(), concepts=concepts)
        if not cands:
            return None
        picked = self.select(cands)
        best = max(c.score for c in cands)
        picked = self.structured(cands, picked, children) or picked
        if not picked or not answers(picked, self.vectors.cal):
            return Draft("", [], best, 0)
        return self.compose(question, picked, best, positions or {})

    def structured(
        self, cands: list[Candidate], picked: list[Candidate], children: dict[str, list[str]]
    ) -> list[Candidate] | None:
        """Intro + one sentence per subsection, when a picked sentence opens a listed section."""
        if not picked:
            return None
        top = picked[0].score
        cal = self.vectors.cal
        intro = next((c for c in picked if c.passage.id in children and c.score >= top - cal.score_margin), None)
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
            citations.append(Citation(n, c.passage.source, c.passage.title, c.passage.url, c.quote,
                                      c.passage.location or None))
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
