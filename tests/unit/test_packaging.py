"""The wheel's package list and where the seeds come from (no build; tests/test_bundled_seeds.py builds it)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from bot.settings import Settings
from knowledge.config import bundled_seeds_dir

ROOT = Path(__file__).resolve().parents[2]


def test_every_package_folder_is_listed_for_the_wheel() -> None:
    """pyproject lists the packages (seeds/ is mapped in as knowledge.seeds): a new subpackage must be listed too."""
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {
        ".".join(p.parent.relative_to(ROOT).parts)
        for top in ("bot", "knowledge")
        for p in (ROOT / top).rglob("__init__.py")
    }
    assert found <= listed, f"add {sorted(found - listed)} to [tool.setuptools] packages"
    assert "knowledge.seeds" in listed



def test_seeds_folder_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    bundled = Settings.from_env({}, dotenv=False)
    assert bundled.seeds_dir.resolve() == bundled_seeds_dir().resolve()
    assert "bundled" in bundled.seeds_origin
    (tmp_path / "seeds").mkdir()
    assert Settings.from_env({}, dotenv=False).seeds_dir == tmp_path / "seeds"
    mine = tmp_path / "mine"
    assert Settings.from_env({"CAREERBOT_SEEDS_DIR": str(mine)}, dotenv=False).seeds_dir == mine
