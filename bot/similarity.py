"""Sentence-level similarity for the writers and the citation check: embeddings plus word overlap.

Embedding every candidate sentence on every question would dominate answer latency on a
small CPU, so sentence vectors are cached in memory and on disk (under the data
directory, keyed by embedder id and sentence text). The knowledge base's own embedder
is used, so similarity works across languages exactly as retrieval does.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import re
import tempfile
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from knowledge.text import CJK_RUN_RE, has_cjk, tokenize

if TYPE_CHECKING:
    from knowledge.embeddings import Embedder

log = logging.getLogger(__name__)

MAX_CACHED = 50_000


def words(text: str, *, cjk: bool = True) -> list[str]:
    """Content tokens; with ``cjk=False`` Chinese runs are skipped so jieba never loads for English work."""
    if not cjk and has_cjk(text):
        text = CJK_RUN_RE.sub(" ", text)
    return tokenize(text)


def overlap(query: Sequence[str], text: Sequence[str], idf: dict[str, float] | None = None) -> float:
    """Weighted share of the query's distinct tokens that occur in ``text`` (0..1)."""
    q = set(query)
    if not q:
        return 0.0
    t = set(text)
    w = idf or {}
    total = sum(w.get(tok, 1.0) for tok in q)
    return sum(w.get(tok, 1.0) for tok in q if tok in t) / total if total else 0.0


def local_idf(docs: Iterable[Sequence[str]]) -> dict[str, float]:
    """IDF over a small pool (the candidate sentences): words in every sentence count little."""
    docs = list(docs)
    df: Counter[str] = Counter()
    for d in docs:
        df.update(set(d))
    n = len(docs)
    return {tok: math.log(1 + n / (1 + c)) for tok, c in df.items()}


@dataclass(frozen=True)
class SentenceThresholds:
    """Similarity thresholds for one embedder: cosine scales differ a lot between models
    (multilingual-e5 puts almost everything between 0.75 and 0.95, USE between -0.1 and 0.8).

    Measured on benchmarks/data/questions.jsonl over the seeds (see README, answers).
    """

    score_margin: float  # keep sentences within this of the best one
    other_source_margin: float  # ... and within this when they come from another document
    lex_weight: float  # weight of word overlap (0..1) next to cosine similarity
    faq_weight: float  # weight of the question's similarity to the FAQ question a sentence answers
    rank_weight: float  # weight of the passage's retrieval score (relative to the best passage's)
    cross_lingual_bonus: float  # the model's same-language preference, given back to other-language text
    dup_cosine: float  # two sentences this similar say the same thing
    close_enough: float  # a sentence sharing no content word with the question is picked only this close
    support_min: float  # a claim is supported by a source sentence this similar
    support_lex: float  # weight of word overlap in the support score
    recite_margin: float  # a cited passage this far below the best-supporting one is re-cited


E5_CALIBRATION = SentenceThresholds(
    score_margin=0.035, other_source_margin=0.015, lex_weight=0.10, faq_weight=0.15, rank_weight=0.015,
    cross_lingual_bonus=0.06, dup_cosine=0.93, close_enough=0.90,
    support_min=0.82, support_lex=0.12, recite_margin=0.04,
)
USE_CALIBRATION = SentenceThresholds(
    score_margin=0.12, other_source_margin=0.05, lex_weight=0.35, faq_weight=0.0, rank_weight=0.15,
    cross_lingual_bonus=0.10, dup_cosine=0.80, close_enough=0.45,
    support_min=0.40, support_lex=0.40, recite_margin=0.12,
)


def calibration_for(embedder_id: str) -> SentenceThresholds:
    """E5 has its own scale; USE and API embedders (wide cosine ranges) share the other."""
    return E5_CALIBRATION if "e5" in embedder_id.lower() and "use" not in embedder_id.lower() else USE_CALIBRATION


class VectorFile:
    """Vectors by key in one ``.npz`` under the data dir, one file per kind and embedder: read whole, written
    atomically (several processes may share the data dir). A missing or corrupt file reads as empty — it is
    only a cache, and a slower answer is all it costs."""

    def __init__(self, cache_dir: Path | None, kind: str, embedder_id: str) -> None:
        self.kind = kind
        self.path: Path | None = None
        if cache_dir is not None:
            slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", embedder_id or "embedder")
            self.path = Path(cache_dir) / f"{kind}-{slug}.npz"

    def read(self) -> dict[str, np.ndarray]:
        if self.path is None or not self.path.exists():
            return {}
        try:
            with np.load(self.path, allow_pickle=False) as data:
                keys, vecs = data["keys"], data["vectors"]
            return {str(k): v for k, v in zip(keys, vecs, strict=True)}
        except Exception as exc:
            log.warning("ignoring %s cache %s: %s", self.kind, self.path, type(exc).__name__)
            return {}

    def write(self, items: Sequence[tuple[str, np.ndarray]]) -> bool:
        """True when written (nothing to write, or no data dir, is not written)."""
        if self.path is None or not items:
            return False
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, suffix=".npz")
            with os.fdopen(fd, "wb") as fh:
                np.savez(fh, keys=np.array([k for k, _ in items]), vectors=np.stack([v for _, v in items]))
            os.replace(tmp, self.path)
            return True
        except OSError as exc:
            log.warning("cannot write %s cache: %s", self.kind, exc)
            return False


class Embeds(Protocol):
    """What SentenceVectors needs of a knowledge base (``KnowledgeBase`` is one): its embedder and embed()."""

    @property
    def embedder(self) -> Embedder: ...

    def embed(self, texts: list[str], *, query: bool = False) -> Any: ...


class SentenceVectors:
    """Cached passage-side vectors for sentences, and query vectors, from a KnowledgeBase."""

    def __init__(self, kb: Embeds, cache_dir: Path | None = None) -> None:
        self.kb = kb
        self.cal = calibration_for(str(getattr(kb.embedder, "id", "")))
        self._lock = threading.Lock()
        self._mem: dict[str, np.ndarray] = {}
        self._queries: dict[str, np.ndarray] = {}
        self._loaded = False
        self._dirty = False
        self._file = VectorFile(cache_dir, "sentence-vectors", str(getattr(kb.embedder, "id", "embedder")))

    @staticmethod
    def _key(text: str) -> str:
        return hashlib.sha1(text.encode("utf-8")).hexdigest()

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        self._mem.update(self._file.read())

    def save(self) -> None:
        """Write new vectors to disk atomically (several processes may share the data dir)."""
        with self._lock:
            if self._dirty and self._file.write(list(self._mem.items())[-MAX_CACHED:]):
                self._dirty = False

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        """One unit vector per text (passage side).

        The lock guards only the cache: embedding runs outside it, so answering threads embed
        their own sentences at the same time (two threads may embed one new sentence twice;
        the vectors are the same, so the second write is harmless).
        """
        keys = [self._key(t) for t in texts]
        with self._lock:
            self._load()
            missing = sorted({k: t for k, t in zip(keys, texts, strict=True) if k not in self._mem}.items())
        fresh: dict[str, np.ndarray] = {}
        if missing:
            vecs = self.kb.embed([t for _, t in missing])
            fresh = {k: np.asarray(v, dtype=np.float32) for (k, _), v in zip(missing, vecs, strict=True)}
        with self._lock:
            if fresh:
                self._mem.update(fresh)
                self._dirty = True
            if not keys:
                return np.zeros((0, 1), dtype=np.float32)
            return np.stack([fresh[k] if k in fresh else self._mem[k] for k in keys])

    def query(self, text: str) -> np.ndarray:
        with self._lock:
            vec = self._queries.get(text)
        if vec is not None:
            return vec
        vec = np.asarray(self.kb.embed([text], query=True)[0], dtype=np.float32)
        with self._lock:
            if len(self._queries) > 1000:
                self._queries.clear()
            self._queries[text] = vec
        return vec
