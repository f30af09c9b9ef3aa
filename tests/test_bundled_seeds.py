"""The seed documents ship inside the package: a pip-installed `careerbot ask` works from any folder."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"


@pytest.fixture(scope="module")
def wheel_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """careerbot built as a wheel (as `pip install .` builds it) and unpacked: what site-packages would hold."""
    out = tmp_path_factory.mktemp("wheel")
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", str(ROOT), "-w", str(out)],
        capture_output=True, text=True, timeout=600,
    )
    assert build.returncode == 0, build.stderr[-2000:]
    wheel = next(out.glob("careerbot-*.whl"))
    tree = out / "site-packages"
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(tree)
    return tree


def test_wheel_carries_the_seeds_byte_for_byte(wheel_tree: Path) -> None:
    shipped = {p.name: p.read_bytes() for p in (wheel_tree / "knowledge" / "seeds").iterdir()}
    expected = {p.name: p.read_bytes() for p in SEEDS.iterdir() if p.is_file()}
    assert shipped == expected


def test_installed_ask_answers_from_an_empty_folder(wheel_tree: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "OPENAI_", "CAREERBOT_", "CHROMA_"))}
    env = {**keep, "PYTHONPATH": str(wheel_tree), "CAREERBOT_DATA_DIR": str(tmp_path / "data"), "OMP_NUM_THREADS": "1"}
    out = subprocess.run(
        [sys.executable, "-c", "from bot.cli import main; main()", "ask",
         "Which jobs are most exposed to disruption by LLMs?"],
        capture_output=True, text=True, env=env, cwd=empty, timeout=300,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "bundled seed documents" in out.stderr and str(wheel_tree / "knowledge" / "seeds") in out.stderr
    assert "\nSources\n[1] " in out.stdout
    assert list(empty.iterdir()) == []  # nothing written into the user's folder
