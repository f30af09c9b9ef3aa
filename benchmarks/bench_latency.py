"""Benchmark 1: answer latency, offline and warm, against the floor; cold `careerbot ask`.

    python benchmarks/bench_latency.py --data-dir DIR [--smoke] [--out FILE.json]

DIR holds a store with seeds/ already ingested. For every in-scope question of the
question set we time, back to back so both see the same machine load:

- the floor: embedding the question plus one Chroma vector search (what any
  dense-retrieval bot has to do);
- hybrid retrieval (``KnowledgeBase.search``: embedding, vector search, BM25, fusion);
- the whole answer (``Pipeline.answer``, offline extractive writer).

Then `careerbot ask "..."` is started as a fresh process a few times (store already
ingested) and its wall time taken: the cold start a CLI user feels.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import careerbot_cmd, load_questions, offline_env, peak_rss_mb, percentile, write_result  # noqa: E402

COLD_QUESTION = "Which jobs are most exposed to disruption by LLMs?"


def run(data_dir: Path, smoke: bool) -> dict[str, Any]:
    from bot.pipeline import build_pipeline
    from bot.settings import Settings
    from knowledge.base import KnowledgeBase

    settings = Settings.from_env(offline_env(data_dir), dotenv=False)
    kb = KnowledgeBase(settings.knowledge())
    pipeline = build_pipeline(settings, kb=kb)
    questions = [q["q"] for q in load_questions() if q.get("kind", "in_scope") == "in_scope"]
    if smoke:
        questions = questions[::16][:4]
    passes = 1 if smoke else 2

    for q in questions[:3]:  # warm: model, BM25 index, caches
        pipeline.answer(q)
    floor: list[float] = []
    search: list[float] = []
    answer: list[float] = []
    for _ in range(passes):
        for q in questions:
            t0 = time.perf_counter()
            kb.store.query(kb.embedder.embed_query(q), 30)
            t1 = time.perf_counter()
            kb.search(q, k=5)
            t2 = time.perf_counter()
            pipeline.answer(q)
            t3 = time.perf_counter()
            floor.append((t1 - t0) * 1000)
            search.append((t2 - t1) * 1000)
            answer.append((t3 - t2) * 1000)

    cold: list[float] = []
    for _ in range(1 if smoke else 3):
        t0 = time.perf_counter()
        proc = subprocess.run(
            [*careerbot_cmd(), "ask", COLD_QUESTION], env=offline_env(data_dir), capture_output=True, timeout=120,
        )
        cold.append(time.perf_counter() - t0)
        if proc.returncode != 0:
            raise SystemExit(f"careerbot ask failed: {proc.stderr.decode(errors='replace').strip()[-300:]}")

    def stats(xs: list[float]) -> dict[str, float | None]:
        return {"p50": percentile(xs, 50), "p95": percentile(xs, 95), "n": len(xs)}

    return {
        "questions": len(questions),
        "passes": passes,
        "floor_ms": stats(floor),
        "search_ms": stats(search),
        "answer_ms": stats(answer),
        "cold_ask_s": {"median": percentile(cold, 50), "max": max(cold), "n": len(cold)},
        "peak_rss_mb": peak_rss_mb(),
    }


def markdown(r: dict[str, Any]) -> str:
    f, s, a, c = r["floor_ms"], r["search_ms"], r["answer_ms"], r["cold_ask_s"]
    ratio = a["p50"] / f["p50"] if f["p50"] else float("nan")
    ok_ratio = "met" if ratio <= 3 else "**not met**"
    ok_abs = "met" if a["p50"] <= 30 else "**not met**"
    ok_cold = "met" if c["median"] <= 2.5 else "**not met**"
    return "\n".join(
        [
            f"{r['questions']} in-scope questions × {r['passes']} pass(es), warm process, offline extractive answers.",
            "",
            "| step | p50 ms | p95 ms |",
            "|---|---:|---:|",
            f"| floor: embed the question + one vector search | {f['p50']:.1f} | {f['p95']:.1f} |",
            f"| hybrid retrieval (embed, vector search, BM25, fusion) | {s['p50']:.1f} | {s['p95']:.1f} |",
            f"| whole answer (`Pipeline.answer`) | {a['p50']:.1f} | {a['p95']:.1f} |",
            "",
            "| target | measured | |",
            "|---|---:|---|",
            f"| answer p50 ≤ 3× floor p50 | {ratio:.1f}× | {ok_ratio} |",
            f"| answer p50 ≤ 30 ms | {a['p50']:.1f} ms | {ok_abs} |",
            f"| cold `careerbot ask` ≤ 2.5 s (median of {c['n']}) | {c['median']:.2f} s (max {c['max']:.2f} s) "
            f"| {ok_cold} |",
        ]
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", type=Path, required=True)
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--out")
    args = ap.parse_args()
    write_result(args.out, run(args.data_dir, args.smoke))


if __name__ == "__main__":
    main()
