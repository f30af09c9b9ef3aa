"""Lead-in labels in offline answers: a short opening label ("Platform engineer, infra engineer.") is
attached to the sentence it introduces, or dropped when it only restates the section heading; it is
never an answer sentence of its own. Our own text, no store or model needed."""

from __future__ import annotations

import re
from pathlib import Path

from bot.extractive import candidates
from knowledge.retrieval import Passage


def _passage(text: str, heading: str = "", section: str = "") -> Passage:
    return Passage(id="p1", source="roles.md", title="Roles", url=None, text=text, score=1.0, dense=0.5,
                   lexical=1.0, heading=heading, section=section, kind="paragraph")


def test_a_list_of_names_opening_a_paragraph_is_a_label_not_a_sentence() -> None:
    p = _passage("Data steward, data custodian (DS). A data steward keeps the catalogue of datasets "
                 "accurate and decides who may read each one. Most stewards come from analytics teams.",
                 heading="Governance roles", section="Careers › Governance roles")
    shown = [c.shown for c in candidates([p])]
    assert not any(s.rstrip(".") == "Data steward, data custodian (DS)" for s in shown)
    assert shown[0].startswith("Data steward, data custodian (DS): A data steward keeps")
    # The quote stays the sentence alone, verbatim in the passage.
    assert [c.quote for c in candidates([p])][0].startswith("A data steward keeps")


def test_a_label_that_restates_the_heading_is_dropped() -> None:
    p = _passage("Data steward, data custodian. A data steward keeps the catalogue of datasets accurate "
                 "and decides who may read each one.", heading="Data steward", section="Roles › Data steward")
    shown = [c.shown for c in candidates([p])]
    assert shown == ["A data steward keeps the catalogue of datasets accurate and decides who may read each one."]


def test_a_short_sentence_with_a_verb_is_not_taken_for_a_label() -> None:
    p = _passage("However, this is rare. Most teams hire a data steward only after their third analyst joins.")
    shown = [c.shown for c in candidates([p])]
    assert all(not s.startswith("However, this is rare:") for s in shown)


def test_a_question_opening_a_paragraph_is_a_sentence_not_a_label_with_a_colon() -> None:
    # A rhetorical question ("Ready to start?") ends its own clause: shown in front of the next sentence with a
    # colon it read "想开始准备了吗？：先…", markup-like punctuation no document wrote.
    for text in ("想开始准备了吗？先把最近两年的项目整理成三段经历，每段写清楚你负责的部分和结果。",
                 "Ready to start? Collect your last two years of projects into three short stories about your part."):
        shown = [c.shown for c in candidates([_passage(text)])]
        assert not any(re.search(r"[?？]\s*[:：]", s) for s in shown), shown
        assert shown[0] in text


def test_unpunctuated_list_items_are_items_not_labels_of_each_other() -> None:
    p = Passage(id="p2", source="phd.md", title="PhD or industry", url=None,
                text="Money\nA fellowship pays far less than an offer\nRent near campus keeps rising\n"
                     "Time\nFive or six years before the first full salary",
                score=1.0, dense=0.5, lexical=1.0, kind="list_item")
    shown = [c.shown for c in candidates([p])]
    assert "Money: A fellowship pays far less than an offer" in shown
    assert "Money: Rent near campus keeps rising" in shown
    assert "Time: Five or six years before the first full salary" in shown
    # No item is glued in front of its sibling as if it were a label.
    assert not any("offer: " in s or "rising: " in s for s in shown)
    assert all(c.quote in p.text for c in candidates([p]))


def test_a_fragment_too_short_to_quote_stays_with_the_sentence_it_sums_up() -> None:
    p = _passage("Each extra month of tuning moved the click rate by less than a tenth of a percent. "
                 "Diminishing returns. So the team stopped hiring tuning engineers for the ranking work.\n"
                 "调参一个月，点击率只提高了不到千分之一，投入越来越大收益越来越小。典型的边际递减。所以团队今年不再为排序模型招聘新的算法工程师了。")
    cands = candidates([p])
    quotes = [c.quote for c in cands]
    assert "Each extra month of tuning moved the click rate by less than a tenth of a percent. "\
        "Diminishing returns." in quotes
    assert "调参一个月，点击率只提高了不到千分之一，投入越来越大收益越来越小。典型的边际递减。" in quotes
    assert all(q in p.text for q in quotes)
    # The sentence after the fragment is still the next one of the paragraph.
    first, nxt = cands[0], next(c for c in cands if c.quote.startswith("So the team"))
    assert nxt.index == first.index + 1


def test_an_exclaimed_sentence_gets_its_marker_before_the_mark_not_glued_as_image_markup() -> None:
    from bot.evaluation import markup_in
    from bot.extractive import Candidate, ExtractiveWriter

    p = _passage("Spin up a notebook and try it: no GPU required! "
                 "Most of the exercises finish within a minute on a laptop.")
    picked: list[Candidate] = candidates([p])
    text = ExtractiveWriter.compose(None, "Do I need a GPU for the exercises?", picked, 1.0, {}).text  # type: ignore[arg-type]
    assert "no GPU required [1]!" in text
    assert "![" not in text and markup_in(text) == []


SWITCHERS = """# Switching into data work

## Technical switchers

**Who they are.** Software engineers and testers who want to move toward data work, often inside their own company.

**It pays off.** Most of them land a data role within a year of starting to prepare for it.

## Does web experience help?

It is a real head start. The hard part of shipping a data feature is everything around the model, and web
developers already do that work every day.
"""


def test_a_short_sentence_is_no_label_unless_the_document_marks_it_bold(tmp_path: Path) -> None:
    from knowledge.base import KnowledgeBase
    from knowledge.config import KnowledgeConfig

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "switchers.md").write_text(SWITCHERS, encoding="utf-8")
    kb = KnowledgeBase(KnowledgeConfig(data_dir=tmp_path / "data"))
    kb.ingest(sorted(docs.iterdir()))
    shown = [c.shown for c in candidates(kb.search("who are technical switchers and does web experience help", k=6)
                                         .passages)]
    # Bold lead-ins stay labels even with a verb or pronoun in them ...
    assert any(s.startswith("Who they are: Software engineers and testers") for s in shown), shown
    assert any(s.startswith("It pays off: Most of them land a data role") for s in shown), shown
    # ... an unmarked short sentence is not turned into one ("It is a real head start: The hard part …").
    assert not any(s.startswith("It is a real head start:") for s in shown), shown
    assert any(s.startswith("The hard part of shipping a data feature") for s in shown), shown


def test_a_clause_cut_at_a_semicolon_reads_as_a_sentence_when_shown_alone() -> None:
    from bot.extractive import ExtractiveWriter

    p = _passage("Do not accept a junior title just because the field is new to you; ask to be assessed on your "
                 "engineering level. Most switchers keep their level.")
    cands = candidates([p])
    first = next(c for c in cands if c.quote.startswith("Do not accept"))
    second = next(c for c in cands if c.quote.startswith("ask to be assessed"))
    alone = ExtractiveWriter.compose(None, "Will I lose my level?", [first], 1.0, {}).text  # type: ignore[arg-type]
    assert "new to you [1]." in alone and not alone.rstrip().endswith(";")
    later = ExtractiveWriter.compose(None, "How am I assessed?", [second], 1.0, {}).text  # type: ignore[arg-type]
    assert "\nAsk to be assessed on your engineering level" in later
    both = ExtractiveWriter.compose(None, "Will I lose my level?", [first, second], 1.0, {}).text  # type: ignore[arg-type]
    assert "new to you [1]; ask to be assessed" in both
    assert all(c.quote in p.text for c in cands)  # the quotes stay verbatim
