"""What the /roles tests share: a corpus ingested once into a store, and `careerbot` run against that store."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import cli
from knowledge.base import KnowledgeBase
from knowledge.config import KnowledgeConfig


def ingest_store(tmp_path_factory: pytest.TempPathFactory, corpus: Path, name: str) -> Path:
    """A data dir holding ``corpus`` ingested (embedded Chroma)."""
    data = tmp_path_factory.mktemp(name)
    KnowledgeBase(KnowledgeConfig(data_dir=data)).ingest([corpus])
    return data


def run_cli(store: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> str:
    """``careerbot ARGS`` against ``store``; its output (the command must succeed)."""
    monkeypatch.setenv("CAREERBOT_DATA_DIR", str(store))
    res = CliRunner().invoke(cli, list(args))
    assert res.exit_code == 0, res.output
    return res.output
