"""Focal concept coverage over a real knowledge base (the seeds), with the bundled embedder."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from bot.concepts import Concepts

if TYPE_CHECKING:
    from knowledge.base import KnowledgeBase


def test_a_concept_the_documents_never_mention_shows_as_a_gap(kb: KnowledgeBase, tmp_path: Path) -> None:
    concepts = Concepts(kb, cache_dir=tmp_path)
    covered = concepts.features("What skills does a machine learning engineer need?")
    missing = concepts.features("What is a good sourdough starter hydration for rye bread?")
    assert covered["focal_min"] == 1.0
    assert missing["focal_min"] < 0.9
    assert missing["focal_gap"] > covered["focal_gap"]


def test_word_vectors_are_cached_on_disk_and_reused(kb: KnowledgeBase, tmp_path: Path) -> None:
    first = Concepts(kb, cache_dir=tmp_path).features("Do recruiters care about a kaggle ranking?")
    assert list(tmp_path.glob("term-vectors-*.npz"))
    again = Concepts(kb, cache_dir=tmp_path).features("Do recruiters care about a kaggle ranking?")
    assert again == first
