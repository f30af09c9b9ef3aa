"""The benchmark command stays runnable: `benchmarks/run.py --smoke` end to end, tiny sizes.

It runs every benchmark for real (the seeded store, the CLI, `careerbot serve --http` with
the fake Slack Web API, the synthetic corpus, the eval) and must write every section
without a failure. Speed is not asserted here: these are benchmarks, not timed tests.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SECTIONS = (
    "## Targets",
    "## 1. Answer latency",
    "## 2. Ingest throughput",
    "## 3. Retrieval at scale",
    "## 4. Slack HTTP under load",
    "## 5. Answer quality by retrieval mode",
)


def test_smoke_benchmarks_write_every_section(kb_data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "results"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--smoke", "--out", str(out),
         "--store", str(kb_data_dir)],
        capture_output=True, text=True, timeout=900, cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    md = (out / "results.md").read_text(encoding="utf-8")
    for section in SECTIONS:
        assert section in md, section
    assert "**Failed:**" not in md
    assert "Not run" not in md  # the Slack server and its fake exist, so benchmark 4 must run
    raw = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert raw["slack"]["answers"] == raw["slack"]["events"] == 10 and raw["slack"]["duplicates"] == 0
    assert [r["stored"] for r in raw["scale"]["runs"]] == [100, 300]
    assert set(raw["quality"]["modes"]) == {"dense", "lexical", "hybrid"}
    for table_row in ("| floor: embed the question + one vector search |", "| all |"):
        assert table_row in md
    # The chart is drawn when matplotlib is installed (the `bench` extra), else the report says why not.
    assert (out / "latency_vs_corpus.png").exists() or "matplotlib is not installed" in md
