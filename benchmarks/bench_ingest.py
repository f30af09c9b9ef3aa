"""Benchmark 2: ingest throughput with the default (bundled, offline) embedder, and peak memory.

    python benchmarks/bench_ingest.py --data-dir DIR [--source PATH] [--copies N] [--out FILE.json]

First PATH (default seeds/) is ingested into DIR with ``KnowledgeBase.ingest`` (run.py
then lets the other benchmarks read that store). With ``--copies N`` the seeds are also
copied N times under new file names (new sources, so every chunk is embedded again) and
ingested into a throw-away store: a larger run for a steadier chunks/s. The model is loaded before the
clock starts (its load time is reported on its own). The time covers reading,
cleaning, chunking, tokenising, embedding and the Chroma upserts.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import SEEDS, peak_rss_mb, rss_mb, write_result  # noqa: E402


def _ingest(data_dir: Path, folder: Path, embedder: Any) -> dict[str, Any]:
    from knowledge.base import KnowledgeBase
    from knowledge.config import KnowledgeConfig

    kb = KnowledgeBase(KnowledgeConfig(data_dir=data_dir), embedder=embedder)
    t0 = time.perf_counter()
    report = kb.ingest([folder])
    wall = time.perf_counter() - t0
    chars = sum(len(t) for s in kb.sources() for t in kb.passages_of(s))
    return {
        "files": len(report.files),
        "chunks": report.chunks_added,
        "chars": chars,
        "seconds": wall,
        "chunks_per_s": report.chunks_added / wall if wall else None,
    }


def run(data_dir: Path, source: Path, copies: int) -> dict[str, Any]:
    from knowledge.config import KnowledgeConfig
    from knowledge.embeddings import make_embedder

    base_rss = rss_mb()
    t0 = time.perf_counter()
    embedder = make_embedder(KnowledgeConfig(data_dir=data_dir))
    embedder.embed_query("warm up")
    load_s = time.perf_counter() - t0
    name = "seeds" if source.resolve() == SEEDS.resolve() else source.name
    runs = {name: _ingest(data_dir, source, embedder)}
    if copies:
        with tempfile.TemporaryDirectory(prefix="careerbot-bench-ingest-") as tmp:
            corpus = Path(tmp) / "corpus"
            corpus.mkdir()
            for i in range(copies):
                for f in sorted(SEEDS.iterdir()):
                    if f.is_file():
                        shutil.copy(f, corpus / f"copy{i}_{f.name}")
            runs[f"seeds ×{copies} copies"] = _ingest(Path(tmp) / "data", corpus, embedder)
    return {
        "embedder": embedder.id,
        "model_load_s": load_s,
        "runs": runs,
        "rss_start_mb": base_rss,
        "rss_end_mb": rss_mb(),
        "peak_rss_mb": peak_rss_mb(),
    }


def markdown(r: dict[str, Any]) -> str:
    lines = [
        f"Embedder `{r['embedder']}` (model load {r['model_load_s']:.1f} s, not counted below).",
        "",
        "| corpus | files | chunks | avg chunk chars | seconds | chunks/s | target ≥ 200 |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for name, x in r["runs"].items():
        avg = x["chars"] / x["chunks"] if x["chunks"] else None
        rate = x["chunks_per_s"] or 0.0
        lines.append(
            f"| {name} | {x['files']} | {x['chunks']} | {f'{avg:.0f}' if avg else '—'} | {x['seconds']:.1f} "
            f"| {rate:.1f} | {'met' if rate >= 200 else '**not met**'} |"
        )
    lines += ["", f"Peak memory (RSS) of the ingesting process: {r['peak_rss_mb']:.0f} MiB."]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", type=Path, required=True)
    ap.add_argument("--source", type=Path, default=SEEDS)
    ap.add_argument("--copies", type=int, default=0)
    ap.add_argument("--out")
    args = ap.parse_args()
    write_result(args.out, run(args.data_dir, args.source, args.copies))


if __name__ == "__main__":
    main()
