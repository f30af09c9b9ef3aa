"""Loading stays linear on large files (integration tier: it takes seconds)."""

from __future__ import annotations

import time
from pathlib import Path

from knowledge.ingest import chunk_document, load_document


def _one_line_notes(notes: list[str]) -> None:
    assert all("\n" not in n and 0 < len(n) <= 120 for n in notes), notes


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_large_files_with_many_lines_load_in_linear_time(tmp_path: Path) -> None:
    lines = []
    for i in range(40_000):
        lines += [f"## Heading {i}", f"https://example.org/{i}", f"Paragraph {i} about AI careers."]
    path = _write(tmp_path / "many.md", "\n".join(lines))
    start = time.perf_counter()
    doc = load_document(path)
    assert time.perf_counter() - start < 30  # quadratic cleaning took many minutes here
    assert "40000 bare URL line(s)" in doc.stripped
    assert "Paragraph 39999 about AI careers." in doc.text


def test_a_2_mb_single_paragraph_is_ingested_in_bounded_chunks(tmp_path: Path) -> None:
    sentences = [f"Sentence {i} says that **engineer {i}** deploys models to production." for i in range(30_000)]
    doc = load_document(_write(tmp_path / "huge.md", " ".join(sentences)))
    assert len(doc.raw) > 2_000_000
    chunks = chunk_document(doc)
    assert len(chunks) > 1000 and max(len(c.text) for c in chunks) <= 800
    joined = " ".join(c.text for c in chunks)
    assert "Sentence 0 says that engineer 0 deploys" in joined and "Sentence 29999 says that engineer 29999" in joined
    assert any("very long paragraph" in n for n in doc.stripped)
    _one_line_notes(doc.stripped)
