"""Focal concept coverage: does this knowledge base speak of what the question is about?

A near-topic question shares most of its words with the corpus ("salary", "engineer", "career") but
turns on one concept the documents never mention ("equity", "bootcamp", "落户", a config error). The
words that carry that concept are the question's most *specific* ones: the rarest in general language,
by the word-frequency tables of the ``wordfreq`` package (English and Chinese; no list of ours).

For each of those focal terms we ask how well the corpus covers it:

- 1.0 when the corpus holds it (its stem among the corpus's lexical tokens, or a Chinese term as a
  substring of the corpus text);
- otherwise the cosine of the term to its nearest corpus word in the embedding space (the corpus's
  distinct words embedded once, cached on disk by word). The multilingual embedder makes this fair
  across languages: an English term asked of a Chinese corpus finds its Chinese neighbour.

The features are the least-covered focal term's coverage (``focal_min``) and the corpus's shortfall over all
the question's terms, each weighted by its specificity (``focal_gap``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from knowledge.text import CJK_RUN_RE, EN_WORD_RE, MIN_SPECIFICITY, segment_with_jieba, specificity, tokenize

from .similarity import VectorFile

if TYPE_CHECKING:
    from knowledge.base import KnowledgeBase

log = logging.getLogger(__name__)

FOCAL = 3  # the least-covered of at most this many of the question's most specific terms is a feature
MIN_CJK = 2  # single Chinese characters are too general to be a concept


def _stems(word: str) -> list[str]:
    return tokenize(word)


def terms(text: str) -> list[str]:
    """Content terms of a text: English words that are not stopwords, Chinese words of two or more characters."""
    lowered = text.lower()
    out: list[str] = []
    for w in EN_WORD_RE.findall(CJK_RUN_RE.sub(" ", lowered)):
        if len(w) >= 2 and _stems(w):
            out.append(w)
    for run in CJK_RUN_RE.findall(lowered):
        out.extend(s for s in segment_with_jieba(run) if len(s) >= MIN_CJK)
    return list(dict.fromkeys(out))


def ranked_terms(question: str) -> list[str]:
    """The question's content terms, most specific first; a term inside a longer one counts once."""
    out: list[str] = []
    for t in sorted(terms(question), key=lambda t: (-specificity(t), t)):
        if not any(t in o or o in t for o in out):
            out.append(t)
    return out


def focal_terms(ranked: Sequence[str], n: int = FOCAL) -> list[str]:
    """The most specific of the ranked terms: at most ``n`` above MIN_SPECIFICITY, at least the first."""
    return [t for t in ranked[:n] if specificity(t) >= MIN_SPECIFICITY] or list(ranked[:1])


class _Vocabulary:
    """The corpus's words, the lexical tokens and Chinese text to test presence, and word vectors."""

    def __init__(self, words: list[str], lex: set[str], cjk_text: str, vectors: np.ndarray) -> None:
        self.words = words
        self.row = {w: i for i, w in enumerate(words)}
        # (words x dim) @ (dim x terms): the big matrix first; its transpose on the left takes a slow BLAS path
        self.lex = lex
        self.cjk_text = cjk_text
        self.vectors = vectors  # one unit row per word


class Concepts:
    """Focal concept coverage against one KnowledgeBase; the vocabulary is rebuilt when the store changes."""

    def __init__(self, kb: KnowledgeBase, cache_dir: Path | None = None) -> None:
        self.kb = kb
        self._lock = threading.Lock()
        self._vocab: _Vocabulary | None = None
        self._chunks: list[Any] | None = None
        self._passages: dict[str, tuple[set[str], str, np.ndarray]] = {}  # passage id -> stems, CJK text, word rows
        self._vectors: dict[str, np.ndarray] = {}
        self._loaded = False
        self._file = VectorFile(cache_dir, "term-vectors", str(getattr(kb.embedder, "id", "embedder")))

    # -- cache ---------------------------------------------------------------------------
    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        self._vectors.update(self._file.read())

    def _save(self) -> None:
        self._file.write(list(self._vectors.items()))

    def _embed(self, words: Sequence[str]) -> np.ndarray:
        """Unit vectors for words (passage side for both ends: word against word), cached by word."""
        missing = [w for w in dict.fromkeys(words) if w not in self._vectors]
        for i in range(0, len(missing), 512):
            batch = missing[i:i + 512]
            vecs = np.asarray(self.kb.embed(batch), dtype=np.float32)
            self._vectors.update(zip(batch, vecs, strict=True))
        if not words:
            return np.zeros((0, 1), dtype=np.float32)
        return np.stack([self._vectors[w] for w in words])

    # -- vocabulary ------------------------------------------------------------------------
    def _vocabulary(self) -> _Vocabulary:
        chunks = self.kb.chunks()  # a new list object after each change of the store
        with self._lock:
            if self._vocab is not None and chunks is self._chunks:
                return self._vocab
            self._load()
            lex: set[str] = set()
            words: dict[str, None] = {}
            cjk: list[str] = []
            for c in chunks:
                lex.update(str(c.metadata.get("lex", "")).split())
                words.update(dict.fromkeys(terms(c.text)))
                cjk.extend(CJK_RUN_RE.findall(c.text))
            ordered = sorted(words)
            before = len(self._vectors)
            vectors = self._embed(ordered) if ordered else np.zeros((0, 1), dtype=np.float32)
            if len(self._vectors) > before:
                self._save()
            self._vocab = _Vocabulary(ordered, lex, "\n".join(cjk), vectors)
            self._chunks = chunks
            return self._vocab

    def warm(self) -> None:
        """Build the vocabulary now (ingest or start-up), so the first question does not pay for it."""
        self._vocabulary()

    # -- coverage --------------------------------------------------------------------------
    @staticmethod
    def _held(term: str, v: _Vocabulary) -> bool:
        if CJK_RUN_RE.fullmatch(term):
            return term in v.cjk_text
        stems = _stems(term)
        return bool(stems) and all(s in v.lex for s in stems)

    def coverage(self, focal: Sequence[str]) -> list[float]:
        """Per term: 1.0 when the corpus holds it, else the cosine to its nearest corpus word."""
        v = self._vocabulary()
        out = [1.0 if self._held(t, v) else 0.0 for t in focal]
        rest = [t for t, c in zip(focal, out, strict=True) if c < 1.0]
        if rest and v.words:
            with self._lock:
                vecs = self._embed(rest)
            near = dict(zip(rest, np.max(v.vectors @ vecs.T, axis=0).tolist(), strict=True))
            out = [c if c >= 1.0 else max(0.0, float(near[t])) for t, c in zip(focal, out, strict=True)]
        return out

    def features(self, question: str) -> dict[str, float]:
        """``focal_min``: the coverage of the least-covered focal term; ``focal_gap``: what the corpus misses
        of the question, each term's shortfall (1 - coverage) weighted by its specificity (out of 8), summed."""
        ranked = ranked_terms(question)
        if not ranked:
            return {"focal_min": 1.0, "focal_gap": 0.0}
        cov = dict(zip(ranked, self.coverage(ranked), strict=True))
        gap = sum((1.0 - c) * specificity(t) / 8.0 for t, c in cov.items())
        return {"focal_min": round(min(cov[t] for t in focal_terms(ranked)), 4), "focal_gap": round(gap, 4)}

    def _passage(self, pid: str, text: str, v: _Vocabulary) -> tuple[set[str], str, np.ndarray]:
        got = self._passages.get(pid)
        if got is None:
            words = terms(text)
            known = [v.row[w] for w in words if w in v.row]
            fresh = [w for w in words if w not in v.row]
            rows = [v.vectors[known]] if known else []
            if fresh:
                with self._lock:
                    rows.append(self._embed(fresh))
            mat = np.vstack(rows) if rows else np.zeros((0, v.vectors.shape[1]), dtype=np.float32)
            stems = {s for w in words if not CJK_RUN_RE.fullmatch(w) for s in _stems(w)}
            got = (stems, "\n".join(CJK_RUN_RE.findall(text)), mat)
            if len(self._passages) > 4096:
                self._passages.clear()
            self._passages[pid] = got
        return got

    def local(self, question: str, passages: Sequence[tuple[str, str]]) -> float:
        """``soft_terms``: how much of the question one of these passages (id, text) speaks of, in any language.

        Per question term: 1 when the passage holds it, else the cosine to the passage's nearest word; the
        terms weighted by their specificity; the best passage's share. Word overlap across languages is zero;
        this is not."""
        ranked = ranked_terms(question)
        if not ranked or not passages:
            return 0.0
        v = self._vocabulary()
        if not v.words:
            return 0.0
        with self._lock:
            qv = self._embed(ranked)
        weights = np.array([specificity(t) for t in ranked], dtype=np.float32) + 1e-6
        best = 0.0
        for pid, text in passages:
            stems, cjk, mat = self._passage(pid, text, v)
            held = np.array([
                (t in cjk) if CJK_RUN_RE.fullmatch(t) else bool(_stems(t)) and all(x in stems for x in _stems(t))
                for t in ranked
            ], dtype=bool)
            near = np.max(mat @ qv.T, axis=0) if len(mat) else np.zeros(len(ranked), dtype=np.float32)
            cov = np.where(held, 1.0, np.clip(near, 0.0, 1.0))
            best = max(best, float((cov * weights).sum() / weights.sum()))
        return round(best, 4)

    def explain(self, question: str) -> list[tuple[str, float, float]]:
        """(term, specificity, coverage) for the question's terms, most specific first (benchmarks, debugging)."""
        ranked = ranked_terms(question)
        return [(t, round(specificity(t), 2), round(c, 4)) for t, c in zip(ranked, self.coverage(ranked), strict=True)]
