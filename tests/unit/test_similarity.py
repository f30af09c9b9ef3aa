"""SentenceVectors: answering threads embed at the same time; the cache lock is not held while embedding."""

from __future__ import annotations

import threading
from typing import Any, cast

import numpy as np

from bot.similarity import Embeds, SentenceVectors


class _OverlapEmbedder:
    """An embedder that notes how many calls run at once; each call waits (bounded) for a second one."""

    id = "test:overlap"

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.active = 0
        self.most = 0
        self.second = threading.Event()

    def embed(self, texts: list[str], *, query: bool = False) -> Any:
        with self.lock:
            self.active += 1
            self.most = max(self.most, self.active)
            if self.active >= 2:
                self.second.set()
        # Wait for the other thread to be inside an embed call too; with a lock held around
        # embedding it never gets here, and the wait ends at the timeout.
        self.second.wait(timeout=5)
        with self.lock:
            self.active -= 1
        out = np.zeros((len(texts), 4), dtype=np.float32)
        out[:, 0] = 1.0
        return out


class _KB:
    def __init__(self, embedder: _OverlapEmbedder) -> None:
        self.embedder = embedder

    def embed(self, texts: list[str], *, query: bool = False) -> Any:
        return self.embedder.embed(texts, query=query)


def _run_two(fn_a: Any, fn_b: Any) -> None:
    threads = [threading.Thread(target=fn_a), threading.Thread(target=fn_b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)


def test_two_threads_embed_sentences_concurrently() -> None:
    emb = _OverlapEmbedder()
    vectors = SentenceVectors(cast(Embeds, _KB(emb)))
    results: dict[str, np.ndarray] = {}
    _run_two(lambda: results.update(a=vectors.passages(["first sentence"])),
             lambda: results.update(b=vectors.passages(["second sentence"])))
    assert emb.most == 2, "the second thread waited for the first one's embedding"
    assert results["a"].shape == (1, 4) and results["b"].shape == (1, 4)
    # Both are cached now: no further embedding calls.
    before = emb.most
    assert vectors.passages(["first sentence", "second sentence"]).shape == (2, 4)
    assert emb.most == before


def test_two_threads_embed_queries_concurrently() -> None:
    emb = _OverlapEmbedder()
    vectors = SentenceVectors(cast(Embeds, _KB(emb)))
    _run_two(lambda: vectors.query("one question"), lambda: vectors.query("another question"))
    assert emb.most == 2
