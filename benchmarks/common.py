"""Helpers shared by the benchmark scripts: paths, percentiles, memory, child processes.

Every benchmark runs in its own Python process (``python benchmarks/bench_x.py``) so
its peak memory is its own; it writes one JSON object that ``run.py`` turns into
markdown.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.evaluation import percentile as _eval_percentile  # noqa: E402

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

SEEDS = ROOT / "seeds"
QUESTIONS = ROOT / "benchmarks" / "data" / "questions.jsonl"
# Variables that would turn on the LLM, a Chroma server or Slack: benchmarks measure the offline bot.
_SCRUB = (
    "OPENAI_API_KEY", "OPENAI_BASE_URL", "CHROMA_HOST", "CHROMA_PORT", "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN", "SLACK_API_URL", "CAREERBOT_EMBEDDINGS", "CAREERBOT_DEBUG",
)


def offline_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment for a child careerbot process: offline, local embedder, data in ``data_dir``."""
    env = {k: v for k, v in os.environ.items() if k not in _SCRUB}
    env.update(CAREERBOT_DATA_DIR=str(data_dir), CAREERBOT_SEEDS_DIR=str(SEEDS), ANONYMIZED_TELEMETRY="False")
    env.update(extra)
    return env


# One definition of a percentile for `careerbot eval` and the benchmarks.
percentile = _eval_percentile


def rss_mb() -> float:
    """Current resident memory of this process (Linux /proc; psutil elsewhere when installed)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    try:
        import psutil

        return float(psutil.Process().memory_info().rss) / 1_048_576
    except ImportError:
        return float("nan")


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1_048_576 if sys.platform == "darwin" else peak / 1024


def machine() -> str:
    mem = ""
    try:
        kb = int(next(x for x in Path("/proc/meminfo").read_text().splitlines() if x.startswith("MemTotal")).split()[1])
        mem = f", {kb / 1_048_576:.0f} GiB"
    except (OSError, StopIteration, ValueError):
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{cores} cores{mem}, {platform.machine()}, Python {platform.python_version()}"


def write_result(path: str | None, result: dict[str, Any]) -> None:
    """The child's answer to run.py: JSON to a file, or stdout when no file was given."""
    text = json.dumps(result, ensure_ascii=False, indent=1)
    if path:
        Path(path).write_text(text, encoding="utf-8")
    else:
        print(text)


def careerbot_cmd() -> list[str]:
    """How a user starts careerbot: the console script beside this Python, else ``python -m bot.cli``."""
    script = Path(sys.executable).parent / "careerbot"
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot.cli"]


def ingest_seeds(data_dir: Path, timeout: float = 300) -> None:
    """Ingest seeds/ into ``data_dir`` with the real CLI (the store later benchmarks read)."""
    subprocess.run(
        [*careerbot_cmd(), "ingest", "-q", str(SEEDS)], env=offline_env(data_dir), check=True, timeout=timeout,
        stdout=subprocess.DEVNULL,
    )


def load_questions(path: Path = QUESTIONS) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
