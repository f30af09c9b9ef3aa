"""Structure kept at ingest reaches the store: questions, numbering and sections are stored metadata."""

from __future__ import annotations

from pathlib import Path

from knowledge.base import KnowledgeBase
from knowledge.config import KnowledgeConfig

DATA = Path(__file__).resolve().parent / "data" / "structure"


def test_reingest_is_idempotent_and_metadata_is_stored(tmp_path: Path) -> None:
    kb = KnowledgeBase(KnowledgeConfig(data_dir=tmp_path / "data"))
    first = kb.ingest([DATA])
    assert {f.status for f in first.files} == {"added"}
    again = kb.ingest([DATA])
    assert {f.status for f in again.files} == {"unchanged"} and again.chunks_added == 0
    hit = next(p for p in kb.search("Should I learn TensorFlow or PyTorch?", k=5).passages
               if p.source == "bold_faq.md")
    assert hit.question == "Should I learn TensorFlow or PyTorch?" and hit.kind == "answer"
    assert hit.numbering == "8.46" and hit.section == "Reader questions, answered"
    assert hit.text.startswith("PyTorch is what most research code")
