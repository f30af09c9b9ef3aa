"""Server mode vs embedded: what moving the store to a Chroma server costs per answer.

    python benchmarks/server_mode.py [--passes N] [--smoke] [--out benchmarks/results/server_mode.md]

Starts a real `chroma run` on a free loopback port (the binary from the chromadb package),
ingests seeds/ into it and into an embedded store, then times, for every in-scope question of
benchmarks/data/questions.jsonl and back to back so both see the same machine load:

- the vector query alone (one Chroma query with a ready question vector): the HTTP hop;
- hybrid retrieval (``KnowledgeBase.search``);
- the whole offline answer (``Pipeline.answer``).

Loopback only: a real network adds its round trip to every vector query (one per answer,
two for thread follow-ups).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, SEEDS, load_questions, machine, percentile  # noqa: E402

DEFAULT_OUT = ROOT / "benchmarks" / "results" / "server_mode.md"


def _load() -> str:
    try:
        return " / ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def run(passes: int, smoke: bool) -> dict[str, Any]:
    import chromadb

    from bot.pipeline import build_pipeline
    from bot.settings import Settings
    from knowledge.base import KnowledgeBase
    from knowledge.embeddings import make_embedder
    from tests.fakes.chroma_server import ChromaServer

    questions = [q["q"] for q in load_questions() if q.get("kind", "in_scope") == "in_scope"]
    if smoke:
        questions = questions[::8][:6]
    embedder = make_embedder(Settings.from_env({}, dotenv=False).knowledge())
    embedder.embed_query("load the model before any clock starts")
    out: dict[str, Any] = {"questions": len(questions), "passes": passes, "load_before": _load(),
                           "chromadb": chromadb.__version__}
    with tempfile.TemporaryDirectory(prefix="careerbot-server-bench-") as tmp_name:
        tmp = Path(tmp_name)
        t0 = time.perf_counter()
        with ChromaServer(tmp / "chroma") as server:
            out["server_start_s"] = time.perf_counter() - t0
            envs = {
                "embedded": {"CAREERBOT_DATA_DIR": str(tmp / "embedded")},
                "server": {"CAREERBOT_DATA_DIR": str(tmp / "server-bot"), "CHROMA_HOST": server.host,
                           "CHROMA_PORT": str(server.port)},
            }
            pipelines: dict[str, Any] = {}
            for mode, env in envs.items():
                settings = Settings.from_env(env, dotenv=False)
                kb = KnowledgeBase(settings.knowledge(), embedder=embedder)
                t0 = time.perf_counter()
                report = kb.ingest([SEEDS])
                out[f"{mode}_ingest_s"] = time.perf_counter() - t0
                out["chunks"] = report.chunks_added
                pipelines[mode] = build_pipeline(settings, kb=kb)
            for p in pipelines.values():  # warm: BM25 index, sentence vectors of every passage asked about
                for q in questions:
                    p.answer(q)
            times: dict[str, dict[str, list[float]]] = {m: {"query": [], "search": [], "answer": []} for m in envs}
            same = 0
            for _ in range(passes):
                for q in questions:
                    vec = embedder.embed_query(q)
                    answers = {}
                    for mode, p in pipelines.items():
                        t0 = time.perf_counter()
                        p.kb.store.query(vec, 30)
                        t1 = time.perf_counter()
                        p.kb.search(q, k=5)
                        t2 = time.perf_counter()
                        answers[mode] = p.answer(q)
                        t3 = time.perf_counter()
                        times[mode]["query"].append((t1 - t0) * 1000)
                        times[mode]["search"].append((t2 - t1) * 1000)
                        times[mode]["answer"].append((t3 - t2) * 1000)
                    a, b = answers["embedded"], answers["server"]
                    same += (a.text, a.citations) == (b.text, b.citations)
            out["same_answers"] = same
            out["compared"] = passes * len(questions)
            out["stats"] = {
                mode: {step: {"p50": percentile(xs, 50), "p95": percentile(xs, 95), "n": len(xs)}
                       for step, xs in steps.items()}
                for mode, steps in times.items()
            }
    out["load_after"] = _load()
    return out


def markdown(r: dict[str, Any], command: str) -> str:
    s = r["stats"]
    rows = [("vector query (ready vector, 30 results)", "query"), ("hybrid retrieval (`KnowledgeBase.search`)",
            "search"), ("whole offline answer (`Pipeline.answer`)", "answer")]
    lines = [
        "# Server mode vs embedded store",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()}; chromadb {r['chromadb']} "
        f"(client and `chroma run` server on loopback). Load average before / after: {r['load_before']} → "
        f"{r['load_after']} (a shared machine: compare the two columns, not absolute numbers across runs).",
        "",
        f"Command: `{command}`",
        "",
        f"{r['questions']} in-scope questions × {r['passes']} pass(es), warm processes, offline extractive answers; "
        "each question is timed against both stores back to back.",
        "",
        "| step | embedded p50 ms | embedded p95 ms | server p50 ms | server p95 ms |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, key in rows:
        e, v = s["embedded"][key], s["server"][key]
        lines.append(f"| {label} | {e['p50']:.1f} | {e['p95']:.1f} | {v['p50']:.1f} | {v['p95']:.1f} |")
    lines += [
        "",
        f"- Identical answers (text and citations) from both stores: {r['same_answers']} of {r['compared']}.",
        f"- Ingesting seeds/ ({r['chunks']} chunks): embedded {r['embedded_ingest_s']:.1f} s, "
        f"server {r['server_ingest_s']:.1f} s (mostly embedding; same model for both).",
        f"- `chroma run` ready (heartbeat answered) after {r['server_start_s']:.1f} s.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--passes", type=int, default=3)
    ap.add_argument("--smoke", action="store_true", help="a few questions, one pass")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args()
    passes = 1 if args.smoke else args.passes
    result = run(passes, args.smoke)
    command = "python benchmarks/server_mode.py" + (" --smoke" if args.smoke else f" --passes {passes}")
    text = markdown(result, command)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
