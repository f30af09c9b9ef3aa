"""Run every benchmark and write benchmarks/results/results.md (+ results.json, the chart).

    python benchmarks/run.py            # the full run (tens of minutes on 2 cores)
    python benchmarks/run.py --smoke    # tiny sizes, well under a minute: CI runs this
    python benchmarks/run.py --only latency,scale --out /tmp/bench

1. answer latency (warm, offline) against the floor; cold `careerbot ask`
2. ingest throughput with the default embedder; peak memory
3. hybrid retrieval on a synthetic corpus of 1k / 10k / 50k chunks; memory; chart
4. the Slack HTTP endpoint under a burst of signed events (fake Slack Web API)
5. answer quality (the `careerbot eval` table) for dense, lexical and hybrid retrieval

Each benchmark runs in its own process (bench_*.py) so memory figures are its own. A
benchmark that fails is reported as failed in the markdown and makes the exit status 1;
the others still run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_ingest  # noqa: E402
import bench_latency  # noqa: E402
import bench_quality  # noqa: E402
import bench_scale  # noqa: E402
import bench_slack  # noqa: E402
from common import ROOT, SEEDS, machine  # noqa: E402

HERE = Path(__file__).resolve().parent
STEPS = ("ingest", "latency", "scale", "slack", "quality")
CHART = "latency_vs_corpus.png"
SMALL_SEED = SEEDS / "004_a012fad4e6cda691.txt"


def _child(script: str, args: list[str], timeout: float) -> dict[str, Any]:
    """Run one bench_*.py and read its JSON; on failure, a dict saying why."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        out = Path(f.name)
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(
            [sys.executable, str(HERE / script), *args, "--out", str(out)],
            capture_output=True, text=True, timeout=timeout, cwd=ROOT,
        )
        if proc.returncode != 0:
            lines = [x for x in (proc.stderr or proc.stdout).strip().splitlines() if x.strip()]
            return {"failed": lines[-1] if lines else f"exit status {proc.returncode}", "stderr": proc.stderr[-3000:]}
        result: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
        result["wall_s"] = time.perf_counter() - t0
        return result
    except subprocess.TimeoutExpired:
        return {"failed": f"timed out after {timeout:.0f} s"}
    finally:
        out.unlink(missing_ok=True)


def _slack_missing() -> str | None:
    for rel in ("bot/server.py", "bot/slack_app.py", "tests/fakes/slack_server.py"):
        if not (ROOT / rel).exists():
            return f"{rel} does not exist yet"
    return None


def run_all(out_dir: Path, smoke: bool, only: set[str], seeded: Path | None = None) -> dict[str, Any]:
    limit = 240.0 if smoke else 3600.0
    results: dict[str, Any] = {"meta": {"load_start": os.getloadavg()[0], "started": time.time()}}
    with tempfile.TemporaryDirectory(prefix="careerbot-bench-") as tmp:
        store = Path(tmp) / "store"
        if seeded is not None:
            # A store with the seeds already ingested (the smoke test hands in its session store):
            # a copy is read by the benchmarks, and benchmark 2 only times one small file.
            shutil.copytree(seeded, store)
            if "ingest" in only:
                results["ingest"] = _child(
                    "bench_ingest.py", ["--data-dir", str(Path(tmp) / "scratch"), "--source", str(SMALL_SEED)], limit
                )
        else:
            # The seeded store every later benchmark reads; benchmark 2 builds it (and times that).
            results["ingest"] = _child(
                "bench_ingest.py", ["--data-dir", str(store), "--copies", "0" if smoke else "4"], limit
            )
            if "ingest" not in only:
                results.pop("ingest")
        ready = store.exists() and "failed" not in results.get("ingest", {})
        for step in ("latency", "scale", "slack", "quality"):
            if step not in only:
                continue
            if step != "scale" and not ready:
                results[step] = {"failed": "the seed store could not be built (see benchmark 2)"}
                continue
            print(f"benchmark: {step} …", file=sys.stderr, flush=True)
            if step == "latency":
                results[step] = _child("bench_latency.py", ["--data-dir", str(store), *(["--smoke"] if smoke else [])],
                                       limit)
            elif step == "scale":
                sizes = [100, 300] if smoke else [1_000, 10_000, 50_000]
                runs = [_child("bench_scale.py", ["--size", str(n), "--queries", "10" if smoke else "50"], limit)
                        for n in sizes]
                bad = [r for r in runs if "failed" in r]
                results[step] = bad[0] if bad else {"runs": runs}
            elif step == "slack":
                missing = _slack_missing()
                if missing:
                    results[step] = {"not_run": missing}
                else:
                    n = ["--events", "10", "--retries", "2", "--answer-timeout", "60"] if smoke else []
                    results[step] = _child("bench_slack.py", ["--data-dir", str(store), *n], limit)
            elif step == "quality":
                results[step] = _child("bench_quality.py", ["--data-dir", str(store), *(["--smoke"] if smoke else [])],
                                       limit)
    results["meta"].update(load_end=os.getloadavg()[0], minutes=(time.time() - results["meta"]["started"]) / 60)
    return results


def chart(scale: dict[str, Any], path: Path) -> str:
    """Latency vs corpus size as a PNG; a sentence instead when matplotlib is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "(chart not drawn: matplotlib is not installed — `pip install '.[bench]'`)"
    runs = sorted(scale["runs"], key=lambda r: r["size"])
    sizes = [r["stored"] for r in runs]
    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=110)
    ax.plot(sizes, [r["hybrid_ms"]["p50"] for r in runs], "o-", label="hybrid p50")
    ax.plot(sizes, [r["hybrid_ms"]["p95"] for r in runs], "o--", label="hybrid p95")
    ax.plot(sizes, [r["dense_ms"]["p50"] for r in runs], "s:", label="dense only p50 (Chroma HNSW)")
    ax.plot(sizes, [r["lexical_ms"]["p50"] for r in runs], "^:", label="lexical only p50 (BM25)")
    ax.axhline(50, color="grey", lw=0.8, ls="-.", label="target: hybrid p50 ≤ 50 ms at 50k")
    ax.set_xscale("log")
    ax.set_xlabel("chunks in the store (synthetic corpus)")
    ax.set_ylabel("retrieval latency, ms")
    ax.set_title("careerbot retrieval latency vs corpus size")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return f"![retrieval latency vs corpus size]({path.name})"


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _target(name: str, measured: str, ok: bool | None) -> str:
    verdict = "not run" if ok is None else ("met" if ok else "**not met**")
    return f"| {name} | {measured} | {verdict} |"


def targets(res: dict[str, Any]) -> list[str]:
    rows = ["| target | measured | |", "|---|---:|---|"]
    lat = res.get("latency", {})
    if "answer_ms" in lat:
        a, f, c = lat["answer_ms"]["p50"], lat["floor_ms"]["p50"], lat["cold_ask_s"]["median"]
        rows.append(_target("answer p50 ≤ 3× floor (embed + vector search), new questions",
                            f"{a:.1f} ms vs {f:.1f} ms = {a / f:.1f}×", a <= 3 * f))
        rows.append(_target("answer p50 ≤ 30 ms (warm process, offline, new questions)", f"{a:.1f} ms", a <= 30))
        rows.append(_target("cold `careerbot ask` ≤ 2.5 s", f"{c:.2f} s", c <= 2.5))
    ing = res.get("ingest", {})
    if "runs" in ing:
        big = max(ing["runs"].values(), key=lambda x: x["chunks"])
        rate = big["chunks_per_s"] or 0.0
        rows.append(_target("ingest ≥ 200 chunks/s (default embedder)", f"{rate:.1f} chunks/s ({big['chunks']} chunks)",
                            rate >= 200))
    sc = res.get("scale", {})
    if "runs" in sc:
        top = max(sc["runs"], key=lambda r: r["size"])
        p50 = top["hybrid_ms"]["p50"]
        rows.append(_target("hybrid retrieval p50 ≤ 50 ms at 50k chunks", f"{p50:.1f} ms at {top['stored']:,} chunks",
                            p50 <= 50 if top["size"] >= 50_000 else None))
    sl = res.get("slack", {})
    if "ack_ms" in sl:
        p99 = sl["ack_ms"]["p99"]
        rows.append(_target(f"Slack ack p99 ≤ 100 ms ({sl['events']} events at once)",
                            "—" if p99 is None else f"{p99:.0f} ms", p99 is not None and p99 <= 100))
        rows.append(_target("every event answered", f"{sl['answers']}/{sl['events']}", sl["answers"] == sl["events"]))
        rows.append(_target("no duplicate answers", str(sl["duplicates"]), sl["duplicates"] == 0))
    elif "not_run" in sl:
        rows.append(_target("Slack ack p99 ≤ 100 ms, 200/200 answered, 0 duplicates", sl["not_run"], None))
    return rows


def _section(title: str, res: dict[str, Any] | None, render: Any) -> list[str]:
    if res is None:
        return []
    lines = ["", f"## {title}", ""]
    if "failed" in res:
        lines.append(f"**Failed:** {res['failed']}")
    elif "not_run" in res:
        lines.append(f"Not run: {res['not_run']}.")
    else:
        lines.append(render(res))
    return lines


def markdown(res: dict[str, Any], smoke: bool, out_dir: Path) -> str:
    meta = res["meta"]
    started = meta.get("started")
    when = dt.datetime.fromtimestamp(started, dt.UTC) if isinstance(started, (int, float)) else dt.datetime.now(dt.UTC)
    today = when.strftime("%Y-%m-%d %H:%M UTC")
    kind = "smoke run (tiny sizes: figures are not meaningful)" if smoke else "full run"
    lines = [
        "# careerbot benchmarks",
        "",
        f"{today} · {machine()} · {kind} · `python benchmarks/run.py{' --smoke' if smoke else ''}` · "
        f"{meta['minutes']:.1f} min · 1-min load average {meta['load_start']:.1f} at the start, "
        f"{meta['load_end']:.1f} at the end (above {_cores()} means other processes competed for the CPU)",
        "",
        *(f"Rerun {r['when']}: {', '.join(r['steps'])} (load {r.get('load_start', 0):.1f} at the start); the "
          "other sections are from the run above." for r in meta.get("reruns", [])),
        "",
        "## Targets",
        "",
        *targets(res),
    ]
    lines += _section("1. Answer latency (offline, warm) and cold start", res.get("latency"), bench_latency.markdown)
    lines += _section("2. Ingest throughput and memory", res.get("ingest"), bench_ingest.markdown)
    sc = res.get("scale")
    if sc is not None:

        def render_scale(r: dict[str, Any]) -> str:
            return "\n".join(
                [
                    "Synthetic, seeded corpus: text from the seed vocabulary tokenised for BM25 as in production; "
                    "**vectors generated directly** (normalised random + cluster vectors, "
                    f"{r['runs'][0]['dim']}-d, the default embedder's size) instead of embedding "
                    "50k chunks, upserted through the Store API into an embedded Chroma. Measured: "
                    "`KnowledgeBase.search` (Chroma HNSW + BM25 + fusion) without the query embedding (see the floor "
                    "in 1). Each size in a fresh process.",
                    "",
                    bench_scale.markdown(r["runs"]),
                    "",
                    chart(r, out_dir / CHART),
                ]
            )

        lines += _section("3. Retrieval at scale", sc, render_scale)
    lines += _section("4. Slack HTTP under load", res.get("slack"), bench_slack.markdown)
    lines += _section("5. Answer quality by retrieval mode", res.get("quality"), bench_quality.markdown)
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description="Run the careerbot benchmarks and write the results as markdown.")
    ap.add_argument("--smoke", action="store_true", help="tiny sizes (CI)")
    ap.add_argument("--out", type=Path, default=HERE / "results", help="output folder (default benchmarks/results)")
    ap.add_argument("--only", default=",".join(STEPS), help=f"comma-separated subset of {','.join(STEPS)}")
    ap.add_argument("--store", type=Path, help="a data dir with seeds/ already ingested (copied, not modified)")
    args = ap.parse_args()
    only = {s.strip() for s in args.only.split(",") if s.strip()}
    unknown = only - set(STEPS)
    if unknown:
        ap.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    args.out.mkdir(parents=True, exist_ok=True)
    if args.store is not None and not (args.store / "chroma").is_dir():
        ap.error(f"--store {args.store}: no chroma/ folder in it (ingest the seeds with CAREERBOT_DATA_DIR set there)")
    res = run_all(args.out, args.smoke, only, args.store)
    previous = args.out / "results.json"
    if only != set(STEPS) and previous.is_file():
        # A partial run updates its own sections and keeps the others (a latency-only rerun used to drop them).
        try:
            kept = json.loads(previous.read_text(encoding="utf-8"))
        except ValueError:
            kept = {}
        meta = dict(kept.get("meta", res["meta"]))
        reruns = [*meta.get("reruns", []), {"when": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
                                             "steps": sorted(only), **res["meta"]}]
        res = {**kept, **{k: v for k, v in res.items() if k != "meta"}, "meta": {**meta, "reruns": reruns}}
    (args.out / "results.json").write_text(json.dumps(res, indent=1, ensure_ascii=False), encoding="utf-8")
    md = markdown(res, args.smoke, args.out)
    (args.out / "results.md").write_text(md, encoding="utf-8")
    print(md)
    failed = [k for k, v in res.items() if "failed" in v]
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
