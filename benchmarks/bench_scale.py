"""Benchmark 3: hybrid retrieval at scale on a synthetic, reproducible corpus.

    python benchmarks/bench_scale.py --size N [--queries Q] [--seed S] [--out FILE.json]

Embedding 50k chunks with the bundled transformer would take hours on 2 cores, so
the *vectors* are synthetic: as long as the default embedder's, normalised, drawn
around 64 random cluster centres (cosine to their centre ≈ 0.8). The *text* is generated from the seed
documents' vocabulary (each cluster has its own Zipf-weighted word distribution, ~10%
of chunks Chinese), tokenised with the real ``knowledge.text.tokenize`` into the
chunks' ``lex`` metadata, and everything is upserted through ``Store.upsert`` into an
embedded Chroma store. Queries then go through ``KnowledgeBase.search``: Chroma HNSW +
BM25 + score fusion, exactly the production path; only the query embedding
is a lookup (its cost is the floor measured in benchmark 1). Same seed, same corpus.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
import zlib
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import SEEDS, peak_rss_mb, percentile, rss_mb, write_result  # noqa: E402


def _default_dim() -> int:
    """The default embedder's vector size, so HNSW works on vectors of the production size."""
    from knowledge.config import KnowledgeConfig
    from knowledge.embeddings import make_embedder

    return int(make_embedder(KnowledgeConfig()).dim)  # constructing it loads no model


DIM = _default_dim()
CLUSTERS = 64
SIGMA = 0.75  # noise norm relative to the unit centre


class SyntheticEmbedder:
    """Query vectors for the benchmark's known queries; a hashed random vector otherwise."""

    id = f"synthetic:cluster-{DIM}"
    dim = DIM

    def __init__(self) -> None:
        self.known: dict[str, np.ndarray] = {}

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError("the synthetic corpus is upserted with its vectors")

    def embed_query(self, text: str) -> np.ndarray:
        if text in self.known:
            return self.known[text]
        v = np.random.default_rng(zlib.crc32(text.encode())).standard_normal(DIM).astype(np.float32)
        return v / np.linalg.norm(v)


def _vocab() -> tuple[list[str], list[str]]:
    """English words and Chinese words from the seed documents (the corpus vocabulary)."""
    from knowledge.text import CJK_RE, _jieba

    en: set[str] = set()
    zh: set[str] = set()
    for f in sorted(SEEDS.iterdir()):
        text = f.read_text(encoding="utf-8")
        en.update(w.lower() for w in re.findall(r"[A-Za-z][A-Za-z\-]{2,}", text))
        for run in re.findall(r"[\u4e00-\u9fff]+", text):
            zh.update(w for w in _jieba().lcut(run) if CJK_RE.search(w))
    return sorted(en), sorted(zh)


def _normalise(m: np.ndarray) -> np.ndarray:
    return (m / np.linalg.norm(m, axis=-1, keepdims=True)).astype(np.float32)


def build_corpus(size: int, seed: int) -> dict[str, Any]:
    """Chunks (ids, texts, metadatas, vectors) plus the cluster model for queries."""
    from knowledge.text import tokenize

    rng = np.random.default_rng(seed)
    en, zh = _vocab()
    centres = _normalise(rng.standard_normal((CLUSTERS, DIM)))
    zipf = 1.0 / np.arange(1, len(en) + 1) ** 1.1
    zipf /= zipf.sum()
    zipf_zh = 1.0 / np.arange(1, len(zh) + 1) ** 1.1
    zipf_zh /= zipf_zh.sum()
    perms = [rng.permutation(len(en)) for _ in range(CLUSTERS)]
    perms_zh = [rng.permutation(max(len(zh), 1)) for _ in range(CLUSTERS)]
    cluster = rng.integers(0, CLUSTERS, size)
    noise = rng.standard_normal((size, DIM)).astype(np.float32)
    vectors = _normalise(centres[cluster] + SIGMA * _normalise(noise))
    lengths = rng.integers(40, 90, size)
    is_zh = rng.random(size) < (0.1 if zh else 0.0)
    en_arr, zh_arr = np.array(en), np.array(zh or [""])
    en_draw = rng.choice(len(en), int(lengths.sum()), p=zipf)
    zh_draw = rng.choice(len(zh_arr), int(lengths.sum()) * 2, p=zipf_zh if zh else None)
    ids, texts, metas = [], [], []
    offset = 0
    for i in range(size):
        k, n = int(cluster[i]), int(lengths[i])
        if is_zh[i]:
            text = "".join(zh_arr[perms_zh[k][zh_draw[2 * offset:2 * offset + 2 * n]]]) + "。"
        else:
            text = " ".join(en_arr[perms[k][en_draw[offset:offset + n]]]).capitalize() + "."
        offset += n
        doc = i // 20
        ids.append(f"synthetic_{doc:05d}.txt#{i % 20}")
        texts.append(text)
        metas.append(
            {
                "source": f"synthetic_{doc:05d}.txt",
                "title": f"Synthetic document {doc}",
                "url": "",
                "date": "",
                "tags": "",
                "heading": "",
                "position": i % 20,
                "root": "",
                "lex": " ".join(tokenize(text)),
            }
        )
    return {
        "ids": ids, "texts": texts, "metas": metas, "vectors": vectors, "centres": centres, "perms": perms,
        "zipf": zipf, "en": en, "rng": rng,
    }


def make_queries(corpus: dict[str, Any], n: int, embedder: SyntheticEmbedder) -> list[str]:
    """Short questions from one cluster's frequent words, with a vector near that cluster."""
    rng, en = corpus["rng"], corpus["en"]
    out = []
    for j in range(n):
        k = int(rng.integers(0, CLUSTERS))
        words = [en[corpus["perms"][k][i]] for i in rng.choice(min(len(en), 60), 4, replace=False)]
        q = f"{' '.join(words)} ({j})"
        noise = _normalise(rng.standard_normal(DIM))
        embedder.known[q] = _normalise(corpus["centres"][k] + SIGMA * noise)
        out.append(q)
    return out


def run(size: int, queries: int, seed: int) -> dict[str, Any]:
    from knowledge.base import KnowledgeBase
    from knowledge.config import KnowledgeConfig

    rss0 = rss_mb()
    t0 = time.perf_counter()
    corpus = build_corpus(size, seed)
    gen_s = time.perf_counter() - t0
    embedder = SyntheticEmbedder()
    qs = make_queries(corpus, queries, embedder)
    with tempfile.TemporaryDirectory(prefix="careerbot-bench-scale-") as tmp:
        kb = KnowledgeBase(KnowledgeConfig(data_dir=Path(tmp)), embedder=embedder)
        t0 = time.perf_counter()
        kb.store.upsert(corpus["ids"], corpus["texts"], corpus["metas"], corpus["vectors"])
        kb.store.bump_version()
        upsert_s = time.perf_counter() - t0
        del corpus
        rss_stored = rss_mb()
        t0 = time.perf_counter()
        first = kb.search(qs[0], k=5)
        first_ms = (time.perf_counter() - t0) * 1000
        assert len(first.passages) == 5, "the synthetic store returned too few passages"
        times: dict[str, list[float]] = {"hybrid": [], "dense": [], "lexical": []}
        for _ in range(2):
            for q in qs:
                for mode in times:
                    t0 = time.perf_counter()
                    kb.search(q, k=5, mode=mode)  # type: ignore[arg-type]
                    times[mode].append((time.perf_counter() - t0) * 1000)
        count = kb.store.count()
        rss_warm = rss_mb()
    return {
        "size": size,
        "dim": DIM,
        "stored": count,
        "seed": seed,
        "queries": len(qs),
        "generate_s": gen_s,
        "upsert_s": upsert_s,
        "first_search_ms": first_ms,
        **{f"{m}_ms": {"p50": percentile(v, 50), "p95": percentile(v, 95)} for m, v in times.items()},
        "rss_start_mb": rss0,
        "rss_stored_mb": rss_stored,
        "rss_warm_mb": rss_warm,
        "peak_rss_mb": max(peak_rss_mb(), rss_warm),
    }


def markdown(results: list[dict[str, Any]]) -> str:
    lines = [
        "| chunks | hybrid p50 ms | hybrid p95 ms | dense p50 ms | lexical p50 ms | first search ms (loads BM25) "
        "| upsert s | RSS warm MiB | peak RSS MiB |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r['stored']:,} | {r['hybrid_ms']['p50']:.1f} | {r['hybrid_ms']['p95']:.1f} "
            f"| {r['dense_ms']['p50']:.1f} "
            f"| {r['lexical_ms']['p50']:.1f} | {r['first_search_ms']:.0f} | {r['upsert_s']:.1f} "
            f"| {r['rss_warm_mb']:.0f} | {r['peak_rss_mb']:.0f} |"
        )
    big = max(results, key=lambda r: r["size"])
    p50 = big["hybrid_ms"]["p50"]
    lines += [
        "",
        "Target hybrid p50 ≤ 50 ms at 50k chunks: "
        + (
            (f"{p50:.1f} ms — met" if p50 <= 50 else f"{p50:.1f} ms — **not met**")
            if big["size"] >= 50_000
            else f"not measured in this run (largest corpus {big['size']:,} chunks)"
        ),
    ]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, required=True)
    ap.add_argument("--queries", type=int, default=50)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out")
    args = ap.parse_args()
    write_result(args.out, run(args.size, args.queries, args.seed))


if __name__ == "__main__":
    main()
