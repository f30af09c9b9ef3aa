"""Two titles in one heading (tests/data/roles_joined, our own text).

What a user of `careerbot roles` / /roles notices: a heading "A / B" or "A and B" lists two roles, A and
B, each with the sentences of the section that are about it; never one entry named "A / B". (An entry of
the curated alias file that names both, like the seeds' translators and interpreters, stays one role.)
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.roles_cli import ingest_store, run_cli

CORPUS = Path(__file__).resolve().parent / "data" / "roles_joined"
EXPECTED = Path(__file__).resolve().parent / "data" / "roles_joined_expected.txt"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ingest_store(tmp_path_factory, CORPUS, "roles-joined-store")


def test_each_title_of_a_joined_heading_is_its_own_role(
        store: Path, clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    expected = [ln.strip() for ln in EXPECTED.read_text(encoding="utf-8").splitlines()
                if ln.strip() and not ln.startswith("#")]
    names = sorted(r["name"] for r in json.loads(run_cli(store, monkeypatch, "roles", "--json"))["roles"])
    assert names == sorted(expected), names
    listing = run_cli(store, monkeypatch, "roles")
    assert " / " not in listing and " and " not in listing


def test_each_card_quotes_the_sentences_about_its_own_title(
        store: Path, clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = run_cli(store, monkeypatch, "role", "Pipeline Engineer")
    assert "nightly loads" in out and "star schemas" not in out
    out = run_cli(store, monkeypatch, "role", "Warehouse Architect")
    assert "star schemas" in out and "nightly loads" not in out
    out = run_cli(store, monkeypatch, "role", "数据治理专员")
    assert "数据血缘" in out and "流式作业" not in out
