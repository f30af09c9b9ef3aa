"""Choose how retrieval fuses dense and BM25 scores (knowledge/retrieval.py ``_fuse``), on more than one corpus.

    python benchmarks/fit_fusion.py [--work DIR] [--fit seeds,dev-fit,...]

For every in-scope question of the fit corpora (benchmarks/corpora.py ``fit_corpora``: never dev-report, the
project's test corpus or a report-only set) it runs the production path — Chroma's nearest chunks, BM25 with the
glossary expansion, ``_fuse`` — at each lexical weight, and the old weighted reciprocal-rank fusion (dense 1.0,
BM25 0.5, k = 60) for comparison, and prints how often a chunk of a right document ranks first / in the top 3 / in
the top 5, per corpus and in total. The weight is chosen leave-one-corpus-out: for each corpus, the weight best on
the others (most right documents first, then in the top 3) is measured on it; the sum of those figures is the
estimate for an unseen corpus, and the weight chosen most often is the one to ship (``lexical_weight`` of the
embedder's ``CoverageCalibration``).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

import numpy as np  # noqa: E402

from benchmarks.corpora import fit_corpora, open_corpus  # noqa: E402
from knowledge.retrieval import _fuse, lexical_cosines  # noqa: E402
from knowledge.text import tokenize  # noqa: E402

WEIGHTS = (0.05, 0.08, 0.1, 0.13, 0.15, 0.2, 0.25, 0.3, 0.4)
DEPTH = 30
Hits = tuple[int, int, int]  # right document first, in the top 3, in the top 5


def _hits(order: list[str], source_of: dict[str, str], right: set[str]) -> Hits:
    srcs = [source_of.get(cid, "") for cid in order[:5]]
    return (int(bool(srcs) and srcs[0] in right), int(any(s in right for s in srcs[:3])),
            int(any(s in right for s in srcs)))


def measure(names: list[str] | None, work: Path) -> dict[str, dict[str, list[Hits]]]:
    """Corpus -> method -> per-question hits."""
    out: dict[str, dict[str, list[Hits]]] = {}
    for corpus in fit_corpora(names):
        _, kb = open_corpus(corpus, work)
        kb.search("warm up", k=1)
        retriever = kb._retriever  # the production index: the benchmark measures exactly its fusion
        chunks, by_id, lex = retriever._snap
        source_of = {c.id: str(c.metadata.get("source", "")) for c in chunks}
        per: dict[str, list[Hits]] = {}
        for item in corpus.items:
            if item.kind != "in_scope":
                continue
            vector = kb.embedder.embed_query(item.q)
            hits = kb.store.query(vector, DEPTH)
            dense = {c.id: float(s) for c, s in hits}
            lex_scores = lex.question_scores(item.q, tokenize(item.q))
            dense.update(lexical_cosines(kb.store, vector, lex_scores, chunks, dense, DEPTH))
            right = set(item.sources)
            rrf: dict[str, float] = {}
            for rank, (c, _) in enumerate(hits):
                rrf[c.id] = rrf.get(c.id, 0.0) + 1.0 / (61 + rank)
            for rank, i in enumerate(np.argsort(-lex_scores)[:DEPTH]):
                if lex_scores[int(i)] <= 0:
                    break
                cid = chunks[int(i)].id
                rrf[cid] = rrf.get(cid, 0.0) + 0.5 / (61 + rank)
            per.setdefault("reciprocal rank", []).append(_hits(sorted(rrf, key=lambda c: -rrf[c]), source_of, right))
            for w in WEIGHTS:
                fused = _fuse(dense, lex_scores, chunks, by_id, DEPTH, w)
                per.setdefault(f"score {w}", []).append(_hits(sorted(fused, key=lambda c: -fused[c]), source_of, right))
        out[corpus.name] = per
        print(f"{corpus.name}: {len(per.get('reciprocal rank', []))} in-scope questions", file=sys.stderr)
    return out


def _sum(rows: list[Hits]) -> Hits:
    return (sum(r[0] for r in rows), sum(r[1] for r in rows), sum(r[2] for r in rows))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "careerbot-bench-corpora")
    ap.add_argument("--fit", default="seeds,dev-fit,seeds-near,dev-near,fitcorpus,fitpm,fitzh,fitresearch,fitops")
    args = ap.parse_args()
    results = measure(args.fit.split(","), args.work)
    methods = list(next(iter(results.values())))
    print("| corpus | questions | " + " | ".join(methods) + " |")
    print("|---|---:|" + "---:|" * len(methods))
    for name, per in results.items():
        cells = [f"{a}/{b}/{c}" for a, b, c in (_sum(per[m]) for m in methods)]
        print(f"| {name} | {len(per[methods[0]])} | " + " | ".join(cells) + " |")
    total = {m: _sum([h for per in results.values() for h in per[m]]) for m in methods}
    print("| all | " + str(sum(len(p[methods[0]]) for p in results.values())) + " | "
          + " | ".join(f"{a}/{b}/{c}" for a, b, c in total.values()) + " |")
    scored = [m for m in methods if m.startswith("score")]
    picks: Counter[str] = Counter()
    held: list[Hits] = []
    for out in results:
        rest = [n for n in results if n != out]
        best = max(scored, key=lambda m: _sum([h for n in rest for h in results[n][m]])[:2])
        picks[best] += 1
        held.append(_sum(results[out][best]))
    print(f"\nleave one corpus out: right document first / top 3 / top 5 = {'/'.join(str(x) for x in _sum(held))} "
          f"(reciprocal rank: {'/'.join(str(x) for x in total['reciprocal rank'])}); "
          f"weights chosen: {dict(picks)}")


if __name__ == "__main__":
    main()
