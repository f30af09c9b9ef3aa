"""What the offline writer quotes: the sentences that answer, not the ones that restate the question.

The items under a lead sentence that announces them ("The tools stewards open every week:") answer a
question about them and come in the document's order; a sentence with the figure asked for beats a general
one on the same topic; items that name different things are all quoted even when they share their wording.
Our own text, a real store and the bundled
embedder; the writer is called directly, so the answerability decision does not enter into it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.extractive import Draft, ExtractiveWriter
from bot.similarity import SentenceVectors
from knowledge.base import KnowledgeBase
from tests.ingested import ingested

HANDBOOK = """# Data stewardship careers

## What a data steward does

Data stewardship is a career many analysts move into after a few years. A data steward keeps an
organisation's datasets documented and trustworthy, and answers for who may read each one.

## Tools

Many people ask which tools a data steward uses day to day. The answer depends on the company, but a few
names come up again and again.

The tools stewards open every week:

- OpenMetadata or DataHub, for the catalogue of datasets.
- Great Expectations, for checks that run on each new table.
- dbt docs, for lineage from source tables to dashboards.

## Pay

Data steward pay is a common question, and it varies by region and seniority. In our 2025 survey of 410
stewards the median salary was 92,000 USD in the United States and 61,000 EUR in Germany.
"""

OTHER = """# Analyst notes

Data analysts and data stewards often sit in the same team. An analyst answers questions with data; a steward
makes sure the data can be trusted. Both roles value clear writing and patience with messy tables.
"""


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    return ingested(tmp_path_factory, "lists", {"stewardship.md": HANDBOOK, "analysts.md": OTHER})


def _answer(kb: KnowledgeBase, question: str) -> Draft:
    writer = ExtractiveWriter(SentenceVectors(kb))
    draft = writer.write(question, kb.search(question, k=6).passages)
    assert draft is not None
    return draft


def test_the_items_under_a_lead_sentence_answer_a_question_about_them(kb: KnowledgeBase) -> None:
    draft = _answer(kb, "Which tools does a data steward use?")
    quotes = [c.quote for c in draft.citations]
    items = [i for i, q in enumerate(quotes) if q.startswith(("OpenMetadata", "Great Expectations", "dbt docs"))]
    assert len(items) >= 2, draft.text
    # In reading order: the list's items as they stand in the document.
    order = [HANDBOOK.index(quotes[i]) for i in items]
    assert order == sorted(order), draft.text
    assert all(c.source == "stewardship.md" for c in draft.citations)


def test_the_sentence_with_the_figure_asked_for_is_quoted(kb: KnowledgeBase) -> None:
    draft = _answer(kb, "What is the median salary of a data steward?")
    assert "92,000" in draft.text, draft.text
    assert draft.sentences <= 4


def test_every_quote_is_verbatim_in_its_document(kb: KnowledgeBase) -> None:
    draft = _answer(kb, "Which tools does a data steward use?")
    for c in draft.citations:
        text = HANDBOOK if c.source == "stewardship.md" else OTHER
        assert c.quote in " ".join(text.split()) or c.quote in text, c.quote
    assert Path(draft.citations[0].source).suffix == ".md"


KINDS = """# Kinds of data steward

Stewardship teams name three kinds of data steward.

**Catalogue steward**: a data steward who documents datasets for the data team.

**Quality steward**: a data steward who tests datasets for the data team.

**Access steward**: a data steward who guards datasets for the data team.

Most teams start with one kind and add the others as the number of datasets grows past a few hundred.
"""


@pytest.fixture(scope="module")
def kinds_kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    return ingested(tmp_path_factory, "kinds", {"kinds.md": KINDS})


def test_items_that_name_different_things_are_not_taken_for_repeats(kinds_kb: KnowledgeBase) -> None:
    # The three items share their wording but for the name: the embedder reads them as near copies.
    draft = _answer(kinds_kb, "What kinds of data steward are there?")
    for name in ("Catalogue steward", "Quality steward", "Access steward"):
        assert name in draft.text, draft.text
