"""Hybrid retrieval: dense vectors from Chroma fused with BM25 by score.

Dense retrieval carries meaning across languages (an English question finds the
Chinese document); BM25 over pre-segmented tokens rewards exact role names and
terms. ``coverage`` says how well the knowledge base covers a question, on a 0..1
scale calibrated on our own question set (see benchmarks/), for the answer layer's
refusal decision.
"""

from __future__ import annotations

import math
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Literal

import numpy as np

from .glossary import expand
from .lexicon import load as load_lexicon
from .lexicon import translations
from .store import Store, StoredChunk
from .structure import CELL_SEP
from .text import language, names_other_language, tokenize

Mode = Literal["hybrid", "dense", "lexical"]
_PIPE_TABLE_SUFFIXES = frozenset({".md", ".markdown", ".txt", ".text"})  # formats whose tables are written with pipes
# Glossary-expanded terms count half in BM25: the user's own words come first.
EXPANSION_WEIGHT = 0.5


@dataclass(frozen=True)
class Passage:
    id: str
    source: str
    title: str
    url: str | None
    text: str
    score: float  # fused score (higher is better)
    dense: float | None  # cosine similarity to the question, when dense ran
    lexical: float  # BM25 score, 0 when no term matched
    heading: str = ""
    section: str = ""  # heading path, outermost first, joined with " › "
    numbering: str = ""  # section number of the innermost heading / FAQ question ("1.2", "8.45")
    kind: str = ""  # block kind: paragraph, list_item, quote, table, code, footnote, answer, or mixed
    question: str = ""  # FAQ: the question this passage answers
    location: str = ""  # where to point a citation: page, else section path
    leads: tuple[str, ...] = ()  # lead-in labels the document marked (bold) at the start of its blocks, in order

    def row_quote(self, row: str) -> str:
        """A table row of this passage as its document writes it. The readers join a row's cells with " | "; a
        markdown or text file writes them between pipes itself, but an HTML, Word or PDF table has no pipes: its
        row reads as the cells' text one after another, so that is what a citation quotes."""
        if PurePosixPath(self.source.lower()).suffix in _PIPE_TABLE_SUFFIXES:
            return row
        return " ".join(cell.strip() for cell in row.split(CELL_SEP) if cell.strip())

    @property
    def where(self) -> str | None:
        """Where the passage sits, for a citation: the reader's location, else the section path.

        A path that opens with the document's own title (its H1) does not repeat it: the citation names
        the title already."""
        where = self.location or self.section or self.heading
        parts = where.split(" › ") if where else []
        if len(parts) > 0 and parts[0].strip().casefold() == self.title.strip().casefold():
            parts = parts[1:]
        return " › ".join(parts) or None


@dataclass
class Retrieval:
    query: str
    language: str
    passages: list[Passage]
    coverage: float  # 0..1: how well the knowledge base covers the question
    features: dict[str, float] = field(default_factory=dict)
    latency_ms: float = 0.0

    @property
    def covered(self) -> bool:
        return self.coverage >= COVERAGE_THRESHOLD


# Calibrated on benchmarks/data/questions.jsonl (in-scope vs out-of-scope), see README.
COVERAGE_THRESHOLD = 0.5


@dataclass(frozen=True)
class CoverageCalibration:
    """How one embedder's evidence maps to coverage.

    evidence = top_dense + known_weight * (known_share - 0.5) + bm25_weight * min(top_bm25, 15);
    coverage = logistic((evidence - midpoint) / scale), so coverage 0.5 sits at ``midpoint``,
    placed in the gap between in-scope and out-of-scope questions of our set. Cosine
    scales differ a lot between models (E5 puts everything above 0.7), hence one per embedder.
    """

    midpoint: float
    scale: float
    known_weight: float = 0.1
    bm25_weight: float = 0.02
    # The fusion: a passage's score is its cosine + lexical_weight x its BM25 over the best BM25 of any passage
    # for this question (0..1), so the weight is in the embedder's cosine units. 0.2 for USE, chosen on nine fit
    # corpora (benchmarks/fit_fusion.py); the E5 entries are scaled to their narrower cosine range, not fitted.
    lexical_weight: float = 0.2


CALIBRATIONS: dict[str, CoverageCalibration] = {
    "local:use-multilingual-v3": CoverageCalibration(midpoint=0.25, scale=0.03),
    "local:multilingual-e5-small-q4": CoverageCalibration(midpoint=0.905, scale=0.012, lexical_weight=0.08),
    "local:e5+use": CoverageCalibration(midpoint=0.58, scale=0.02, lexical_weight=0.13),
}
# OpenAI and other embedders: USE-like cosine ranges (unrelated ~0.1, related 0.3+); not calibrated here.
DEFAULT_CALIBRATION = CALIBRATIONS["local:use-multilingual-v3"]


class LexicalIndex:
    """BM25 (k1=1.5, b=0.75) over an inverted index held in numpy arrays."""

    def __init__(self, docs: list[list[str]], k1: float = 1.5, b: float = 0.75) -> None:
        self.n = len(docs)
        self.k1, self.b = k1, b
        lengths = np.array([len(d) for d in docs], dtype=np.float32)
        self.avgdl = float(lengths.mean()) if self.n else 0.0
        postings: dict[str, dict[int, int]] = defaultdict(dict)
        for i, doc in enumerate(docs):
            for tok in doc:
                postings[tok][i] = postings[tok].get(i, 0) + 1
        self.index: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self.idf: dict[str, float] = {}
        norm = k1 * (1 - b + b * lengths / (self.avgdl or 1.0))
        for tok, plist in postings.items():
            idx = np.fromiter(plist.keys(), dtype=np.int32, count=len(plist))
            tf = np.fromiter(plist.values(), dtype=np.float32, count=len(plist))
            df = len(plist)
            self.idf[tok] = math.log(1 + (self.n - df + 0.5) / (df + 0.5))
            self.index[tok] = (idx, tf * (k1 + 1) / (tf + norm[idx]))
        self.unseen_idf = math.log(1 + (self.n + 0.5) / 0.5)  # a term no passage holds: rarer than any that occurs

    def term_idf(self, tokens: list[str]) -> dict[str, float]:
        """Each distinct term's IDF (unseen ones the highest), in the question's order: sums over it come out the same
        in every process, where a set's order is salted per process."""
        return {t: self.idf.get(t, self.unseen_idf) for t in dict.fromkeys(tokens)}

    def scores(self, tokens: list[str]) -> np.ndarray:
        # each term once, in the question's order: the same sums in every process
        return self.add_scores(np.zeros(self.n, dtype=np.float32), dict.fromkeys(tokens, 1.0))

    def add_scores(self, out: np.ndarray, weights: dict[str, float]) -> np.ndarray:
        """``out`` plus each term's BM25 times its weight, term by term in the dict's order (in place)."""
        for tok, w in weights.items():
            hit = self.index.get(tok)
            if hit is not None:
                out[hit[0]] += w * self.idf[tok] * hit[1]
        return out

    def question_scores(self, query: str, tokens: list[str]) -> np.ndarray:
        """BM25 of every passage for a question: its own tokens, plus its glossary terms (the other language's words
        for the concepts it names) at ``EXPANSION_WEIGHT``, and the general lexicon's translations of its words (each
        word's weight shared among its senses) at ``EXPANSION_WEIGHT`` too."""
        out = self.scores(tokens)
        if self.n:
            extra = expand(query, tokens)
            if extra and EXPANSION_WEIGHT:
                out += EXPANSION_WEIGHT * self.scores(extra)
            if EXPANSION_WEIGHT:
                glossary = set(extra)
                self.add_scores(out, {t: EXPANSION_WEIGHT * w for t, w in translations(query, tokens).items()
                                      if t not in glossary})
        return out

    def max_score(self, tokens: list[str]) -> float:
        """The most any passage could score for these tokens (every term, saturated): BM25's scale."""
        return (self.k1 + 1) * sum(self.term_idf(tokens).values())

    def term_share(self, tokens: list[str], doc_tokens: set[str]) -> float:
        """IDF-weighted share of the query's distinct terms that one passage contains."""
        idf = self.term_idf(tokens)
        total = sum(idf.values())
        return sum(v for t, v in idf.items() if t in doc_tokens) / total if total else 0.0

    def known_share(self, tokens: list[str]) -> float:
        """IDF-weighted share of the question's terms that occur anywhere in the corpus."""
        idf = self.term_idf(tokens)
        total = sum(idf.values())
        return sum(v for t, v in idf.items() if t in self.idf) / total if total else 0.0


def as_passage(c: StoredChunk, score: float, dense: float | None = None, lexical: float = 0.0) -> Passage:
    """A stored chunk as a retrieved passage with these scores."""
    m = c.metadata
    return Passage(
        id=c.id,
        source=str(m.get("source", "")),
        title=str(m.get("title", "")),
        url=str(m.get("url") or "") or None,
        text=c.text,
        score=score,
        dense=dense,
        lexical=lexical,
        heading=str(m.get("heading", "")),
        section=str(m.get("section", "")),
        numbering=str(m.get("numbering", "")),
        kind=str(m.get("kind", "")),
        question=str(m.get("question", "")),
        location=str(m.get("location", "")),
        leads=tuple(x for x in str(m.get("leads") or "").split("\n") if x.strip()),
    )


class Retriever:
    """Searches one Store; keeps the BM25 index and refreshes it when the store changes."""

    def __init__(self, store: Store, refresh_seconds: float = 30.0, cache_dir: Path | None = None) -> None:
        self.store = store
        self.cache_dir = cache_dir  # where parsed tables are kept between processes (the lexicon)
        self.refresh_seconds = refresh_seconds
        self._lock = threading.Lock()
        self._chunks: list[StoredChunk] = []
        self._by_id: dict[str, int] = {}
        self._lex: LexicalIndex | None = None
        self._version: str | None = None
        self._checked = 0.0
        self._forced = 0.0  # last re-read because Chroma returned chunks newer than our snapshot
        self._forced_for: frozenset[str] = frozenset()  # ... and the unknown chunk ids that caused it
        # (chunks, by_id, lex) swapped as one object, so a search never mixes two snapshots.
        self._snap: tuple[list[StoredChunk], dict[str, int], LexicalIndex | None] = ([], {}, None)
        self._documents: tuple[list[StoredChunk] | None, dict[str, list[StoredChunk]]] = (None, {})
        self._written: tuple[list[StoredChunk] | None, dict[str, str]] = (None, {})

    def invalidate(self) -> None:
        with self._lock:
            self._version = None
            self._checked = 0.0

    def _ensure_index(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and self._lex is not None and now - self._checked < self.refresh_seconds:
            return
        with self._lock:
            if not force and self._lex is not None and now - self._checked < self.refresh_seconds:
                return
            version = self.store.version()
            if force or self._lex is None or version != self._version:
                chunks = self.store.all_chunks()
                self._chunks = chunks
                self._by_id = {c.id: i for i, c in enumerate(chunks)}
                self._lex = LexicalIndex([str(c.metadata.get("lex", "")).split() for c in chunks])
                load_lexicon(self.cache_dir)  # with the index, at the warm-up search: no question pays for it
                self._snap = (self._chunks, self._by_id, self._lex)
                self._version = version
            self._checked = now

    def neighbours(self, passage: Passage) -> list[Passage]:
        """The chunks right before and after ``passage`` in its document, when in the same section and
        FAQ answer: a section longer than one chunk was cut between them, so its next lines (a list
        going on, the answer to a lead-in) sit there. They carry ``passage``'s score."""
        self._ensure_index()
        chunks = self._snap[0]
        built, by_source = self._documents
        if built is not chunks:  # each document's chunks in reading order, once per snapshot
            order: dict[str, list[StoredChunk]] = defaultdict(list)
            for c in chunks:
                order[str(c.metadata.get("source", ""))].append(c)
            for doc in order.values():
                doc.sort(key=lambda c: int(c.metadata.get("position", 0)))
            by_source = dict(order)
            self._documents = (chunks, by_source)  # one assignment: readers never see a mixed pair
        doc = by_source.get(passage.source, [])
        at = next((i for i, c in enumerate(doc) if c.id == passage.id), None)
        if at is None:
            return []
        out: list[Passage] = []
        for j in (at - 1, at + 1):
            if 0 <= j < len(doc):
                m = doc[j].metadata
                if str(m.get("section", "")) == passage.section and str(m.get("question", "")) == passage.question:
                    out.append(as_passage(doc[j], passage.score))
        return out

    def _languages(self) -> dict[str, str]:
        """Source -> the language most of its chunks are written in, once per snapshot."""
        chunks = self._snap[0]
        built, languages = self._written
        if built is not chunks:
            counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
            for c in chunks:
                counts[str(c.metadata.get("source", ""))][0 if language(c.text) == "zh" else 1] += 1
            languages = {src: "zh" if zh > en else "en" for src, (zh, en) in counts.items()}
            self._written = (chunks, languages)  # one assignment: readers never see a mixed pair
        return languages

    @property
    def chunks(self) -> list[StoredChunk]:
        self._ensure_index()
        return self._chunks

    def search(self, query: str, k: int = 5, mode: Mode = "hybrid", depth: int = 30) -> Retrieval:
        start = time.perf_counter()
        self._ensure_index()
        hits: list[tuple[StoredChunk, float]] = []
        if mode in ("hybrid", "dense") and self._snap[0]:
            vec = self.store.embedder.embed_query(query)
            hits = self.store.query(vec, depth)
            missing = frozenset(c.id for c, _ in hits if c.id not in self._snap[1])
            if missing and (missing != self._forced_for or time.monotonic() - self._forced > 1.0):
                # Chroma holds chunks our snapshot lacks: another process (re-)ingested. Re-read now,
                # or a changed document would be split between stale BM25 and fresh dense hits.
                self._forced, self._forced_for = time.monotonic(), missing
                self._ensure_index(force=True)
        chunks, by_id, lex = self._snap
        assert lex is not None
        tokens = tokenize(query)
        calibration = CALIBRATIONS.get(self.store.embedder.id, DEFAULT_CALIBRATION)
        dense_sim: dict[str, float] = {}
        dense_hits: dict[str, StoredChunk] = {}  # as Chroma returned them: newer than our snapshot may be
        lex_scores = lex.question_scores(query, tokens)

        if mode in ("hybrid", "dense") and chunks:
            for chunk, sim in hits:
                dense_sim[chunk.id] = sim
                dense_hits[chunk.id] = chunk
        if mode == "hybrid" and hits and lex.n:
            dense_sim.update(lexical_cosines(self.store, vec, lex_scores, chunks, dense_sim, depth))
        # A lexical-only search scores on the same scale as a hybrid one (no cosine, the same BM25 share), so its
        # passages can join a hybrid search's without outranking them.
        fused = _fuse(dense_sim, lex_scores if mode in ("hybrid", "lexical") else None, chunks, by_id, depth,
                      calibration.lexical_weight)
        named = names_other_language(query)
        if named is not None:
            # "What does the Chinese post say about …": the documents written in that language count as if they held
            # the question's words (a full BM25 match's weight). Chosen on the nine fit corpora: a right document
            # ranks first for 328 of 425 questions against 322 without, no corpus worse (2026-12-02).
            written = self._languages()
            for cid in fused:
                i = by_id.get(cid)
                if i is not None and written.get(str(chunks[i].metadata.get("source", ""))) == named:
                    fused[cid] += calibration.lexical_weight

        passages: list[Passage] = []
        for cid, score in sorted(fused.items(), key=lambda kv: -kv[1])[:k]:
            i = by_id.get(cid)
            # A chunk stored after our snapshot (another process re-ingested) comes from the dense hit
            # itself, so a re-ingested document never drops out of answers until the next refresh.
            c = chunks[i] if i is not None else dense_hits.get(cid)
            if c is None:
                continue
            lexical = float(lex_scores[i]) if lex.n and i is not None else 0.0
            passages.append(as_passage(c, round(score, 6), dense_sim.get(cid), lexical))
        top_dense = max(dense_sim.values(), default=0.0)
        known = lex.known_share(tokens) if lex.n else 0.0
        top_bm25 = float(lex_scores.max()) if lex.n else 0.0
        coverage, features = _coverage(top_dense, known, top_bm25, mode, calibration)
        features.update(_agreement(hits, lex_scores, chunks, lex, tokens, passages, by_id))
        return Retrieval(
            query=query,
            language=language(query),
            passages=passages,
            coverage=coverage,
            features=features,
            latency_ms=(time.perf_counter() - start) * 1000,
        )


def lexical_cosines(
    store: Store, vector: np.ndarray, lex_scores: np.ndarray, chunks: list[StoredChunk], dense_sim: dict[str, float],
    depth: int,
) -> dict[str, float]:
    """The cosine of each of the ``depth`` best BM25 hits the nearest-neighbour search did not return, read from the
    store. Which far-off chunks an approximate search returns varies between processes; a fused score that depended
    on them (the lowest cosine returned) ranked the same question differently on two replicas."""
    lexical_only = [chunks[int(i)].id for i in np.argsort(-lex_scores, kind="stable")[:depth]
                    if lex_scores[int(i)] > 0 and chunks[int(i)].id not in dense_sim]
    return store.similarities(vector, lexical_only)


def _fuse(
    dense_sim: dict[str, float], lex_scores: np.ndarray | None, chunks: list[StoredChunk], by_id: dict[str, int],
    depth: int, lexical_weight: float,
) -> dict[str, float]:
    """Chunk id -> fused score for the dense hits and the ``depth`` best BM25 chunks: the cosine plus
    ``lexical_weight`` x BM25 over the best BM25 for this question.

    Scores, not ranks, are fused: reciprocal-rank fusion gave a passage BM25 ranks first by a wide margin
    (it holds the question's exact terms) the same credit as one it ranks first by a hair, so a vaguely
    related passage the dense model liked a little more came first. The caller gives the BM25 hits their own
    cosine; one it could not (a chunk removed meanwhile, a dense-less search) gets the lowest cosine of the
    dense hits (it is no closer than they are). On nine fit corpora
    (425 in-scope questions) the right document ranked first for 75 % of questions against 68 % with
    reciprocal ranks (benchmarks/fit_fusion.py).
    """
    fused = dict(dense_sim)
    if lex_scores is None or not len(lex_scores):
        return fused
    best = float(lex_scores.max())
    if best <= 0:
        return fused
    floor = min(dense_sim.values(), default=0.0)
    for cid in fused:
        i = by_id.get(cid)
        if i is not None:
            fused[cid] += lexical_weight * float(lex_scores[i]) / best
    for i in np.argsort(-lex_scores, kind="stable")[:depth]:
        cid = chunks[int(i)].id
        if lex_scores[int(i)] <= 0:
            break
        if cid not in fused:
            fused[cid] = floor + lexical_weight * float(lex_scores[int(i)]) / best
    return fused


def _agreement(
    hits: list[tuple[StoredChunk, float]], lex_scores: np.ndarray, chunks: list[StoredChunk], lex: LexicalIndex,
    tokens: list[str], passages: list[Passage], by_id: dict[str, int],
) -> dict[str, float]:
    """Evidence that does not depend on one embedder's scale, for the answerability model.

    - bm25_norm: the best BM25 score over the most any passage could score for these terms;
    - agreement: share of the dense top 5 that lexical search also ranks in its top 5;
    - passage_terms: the most of the question's terms (IDF-weighted) one of the top 3 passages holds;
    - rare_terms: the share of the question's two rarest terms (in this corpus; unseen counts as rarest; any tied
      with the second count too) that one of the top 3 passages holds — the words that make a question specific.
    """
    if not lex.n or not tokens:
        return {"bm25_norm": 0.0, "agreement": 0.0, "passage_terms": 0.0, "rare_terms": 0.0}
    top_lex = {chunks[int(i)].id for i in np.argsort(-lex_scores)[:5] if lex_scores[int(i)] > 0}
    top_dense = [c.id for c, _ in hits[:5]]
    agreement = len(top_lex & set(top_dense)) / 5.0 if top_dense else 0.0
    bm25_norm = float(lex_scores.max()) / (lex.max_score(tokens) or 1.0)
    # The two rarest terms, and any tied with the second: ties (two words the corpus never uses) broken by set order
    # made the feature, and so the decision, differ between processes (string hashing is salted per process).
    idf = lex.term_idf(tokens)
    cut = sorted(idf.values(), reverse=True)[:2][-1]
    rare = [t for t, v in idf.items() if v >= cut]
    share = rare_share = 0.0
    for p in passages[:3]:
        i = by_id.get(p.id)
        if i is not None:
            held = set(str(chunks[i].metadata.get("lex", "")).split())
            share = max(share, lex.term_share(tokens, held))
            rare_share = max(rare_share, sum(1 for t in rare if t in held) / len(rare))
    return {
        "bm25_norm": round(bm25_norm, 4), "agreement": round(agreement, 4), "passage_terms": round(share, 4),
        "rare_terms": round(rare_share, 4),
    }


def _coverage(
    top_dense: float, known_share: float, top_bm25: float, mode: Mode,
    calibration: CoverageCalibration = DEFAULT_CALIBRATION,
) -> tuple[float, dict[str, float]]:
    """Map retrieval evidence to 0..1. Dense similarity dominates; lexical evidence nudges."""
    features = {"top_dense": round(top_dense, 4), "known_share": round(known_share, 4), "top_bm25": round(top_bm25, 3)}
    if mode == "lexical":
        z = 4.0 * (known_share - 0.5) + 0.3 * (min(top_bm25, 10) - 3)
    else:
        c = calibration
        evidence = top_dense + c.known_weight * (known_share - 0.5) + c.bm25_weight * min(top_bm25, 15.0)
        features["evidence"] = round(evidence, 4)
        z = (evidence - c.midpoint) / c.scale
    return round(1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z)))), 4), features
