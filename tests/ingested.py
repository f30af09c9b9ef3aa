"""A knowledge base ingested from markdown files a test writes itself (name -> text), in a fresh folder."""

from __future__ import annotations

import pytest

from knowledge.base import KnowledgeBase
from knowledge.config import KnowledgeConfig


def ingested(tmp_path_factory: pytest.TempPathFactory, name: str, files: dict[str, str]) -> KnowledgeBase:
    """A knowledge base holding these files, ingested into a store of its own under a new temporary folder."""
    root = tmp_path_factory.mktemp(name)
    docs = root / "docs"
    docs.mkdir()
    for file, text in files.items():
        (docs / file).write_text(text, encoding="utf-8")
    kb = KnowledgeBase(KnowledgeConfig(data_dir=root / "data"))
    kb.ingest(sorted(docs.iterdir()))
    return kb
