"""The report-only question sets stay usable and stay out of every fit.

benchmarks/data/seeds_heldout.jsonl, seeds_heldout2.jsonl, benchmarks/data/heldout2/, heldout3/ and heldout4/ are
measuring sets only: this checks that they parse as `careerbot eval` files, that every expected fact really is in the
source it names (so a miss is the bot's, not the set's), and that the fitting scripts refuse them.
"""

from __future__ import annotations

import html
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.corpora import corpora, fit_corpora  # noqa: E402
from bot.evaluation import load_items  # noqa: E402

DATA = ROOT / "benchmarks" / "data"


def _text(path: Path) -> str:
    raw = path.read_text(encoding="utf-8")
    if path.suffix == ".html":
        raw = html.unescape(re.sub(r"<[^>]+>", " ", raw))
    return raw.replace("**", "").lower()


@pytest.mark.parametrize(("questions", "folders"), [
    (DATA / "seeds_heldout.jsonl", [ROOT / "seeds"]),
    (DATA / "seeds_heldout2.jsonl", [ROOT / "seeds"]),
    (DATA / "heldout2" / "questions.jsonl", [DATA / "heldout2" / "chapters", DATA / "heldout2" / "faq"]),
    (DATA / "heldout3" / "questions.jsonl", [DATA / "heldout3" / "zhbook", DATA / "heldout3" / "enfaq"]),
    (DATA / "heldout4" / "questions.jsonl", [DATA / "heldout4" / "enbook", DATA / "heldout4" / "zhfaq"]),
])
def test_every_fact_is_in_the_source_it_names(questions: Path, folders: list[Path]) -> None:
    docs = {p.name: _text(p) for f in folders for p in f.iterdir() if p.is_file()}
    items = load_items(questions)
    kinds = {k: sum(1 for it in items if it.kind == k) for k in ("in_scope", "out_of_scope", "adversarial")}
    assert kinds["in_scope"] >= 36 and kinds["out_of_scope"] >= 12 and kinds["adversarial"] >= 6
    for it in items:
        if it.kind != "in_scope":
            assert not it.sources and not it.facts
            continue
        assert it.facts, it.q
        for fact in it.facts:
            assert any(fact.lower() in docs[s] for s in it.sources), (it.q, fact)


def test_fits_refuse_the_report_only_set() -> None:
    assert [c.name for c in corpora() if c.report_only] == ["seeds-heldout", "seeds-heldout2"]
    assert not {"seeds-heldout", "seeds-heldout2"} & {c.name for c in fit_corpora()}
    for held in ("seeds-heldout", "seeds-heldout2"):
        with pytest.raises(ValueError, match=held):
            fit_corpora(["seeds", held])
