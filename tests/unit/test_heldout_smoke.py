"""The held-out corpus parses: every file reads into markup-free chunks, the question set is valid.

No embedding model, no store: this only checks that the measuring corpus is usable (the figures come
from benchmarks/heldout.py). Nothing here looks at answers, so nothing here can be tuned on.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from bot.evaluation import load_items
from knowledge.ingest import chunk_document, load_document

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "benchmarks" / "data" / "heldout"
sys.path.insert(0, str(ROOT / "benchmarks"))

import heldout  # noqa: E402

FILES = sorted(p for c in heldout.SETS["heldout"].corpora for p in (DATA / c).iterdir() if p.is_file())
MARKUP = re.compile(r"(?m)\*\*|__|\[\^|^\s*>|</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?>")


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_file_reads_into_markup_free_chunks(path: Path) -> None:
    doc = load_document(path)
    chunks = chunk_document(doc)
    assert chunks, f"{path.name} gave no chunks"
    for c in chunks:
        assert not MARKUP.search(c.text), f"{path.name}: markup in chunk {c.text[:80]!r}"


def test_question_set_is_valid_and_points_at_corpus_files() -> None:
    items = load_items(DATA / "questions.jsonl")
    names = {p.name for p in FILES}
    kinds = {it.kind for it in items}
    assert kinds == {"in_scope", "out_of_scope", "adversarial"}
    for it in items:
        assert set(it.sources) <= names, f"line {it.line}: unknown source"
    split = heldout.split_items(heldout.SETS["heldout"])
    assert all(any(r["kind"] == "in_scope" for r in rows) for rows in split.values())


def test_scanner_sees_the_structure_it_checks_for() -> None:
    qa = heldout.CorpusText.read("qa", DATA / "qa")
    assert len(qa.questions) >= 40 and qa.advert_clauses
    book = heldout.CorpusText.read("book", DATA / "book")
    assert book.headings and book.leadins
    roles = heldout.read_roles(DATA / "roles.txt")
    assert any("Research Engineer" in names for names, _ in roles)
    # the checks fire on what they look for, and not on clean text
    bad = {"answer": "1.2.3 Research engineer: builds things [1]. **Bold** here.", "refused": False,
           "citations": [{"n": 1, "source": "ch1-roles.md", "quote": "not in the book at all"}]}
    found = heldout.scan_answer(bad, book)
    assert {"markup", "glued", "bad_quote"} <= set(found)
    good = {"answer": "A research engineer turns research ideas into code that runs at scale [1].", "refused": False,
            "citations": [{"n": 1, "source": "ch1-roles.md",
                           "quote": "A research engineer turns research ideas into code that runs at scale."}]}
    assert heldout.scan_answer(good, book) == {}
