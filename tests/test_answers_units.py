"""Which document the offline writer cites: the one retrieval found the question's answer in, not only the one
sentence elsewhere that repeats the question's words.

Our own two documents, a real store and the bundled embedder: a short overview whose one sentence restates the
question ("Preparing for data engineer interviews can feel stressful…") and ranks first, and a guide whose sections
retrieval ranks next to it and whose "Getting hired" section holds the answer in other words. The writer is called
directly, so the answerability decision does not enter into it.
"""

from __future__ import annotations

import pytest

from bot.extractive import ExtractiveWriter, unit_shares
from bot.similarity import SentenceVectors
from knowledge.base import KnowledgeBase
from tests.ingested import ingested

OVERVIEW = """# Working with data

People reach data careers from statistics, from software and from analytics. Preparing for data engineer interviews
can feel stressful for everyone.
"""

GUIDE = """# Becoming a data engineer

## What the work is

A data engineer builds the pipelines that move records from applications into the warehouse, and keeps them running.

## Getting hired

Hiring managers test SQL fluency first: practise window functions and joins until you can write them without notes.
Most loops include a system design round where you sketch a batch pipeline from ingestion to the warehouse.

## Growing

After a few years many data engineers specialise in streaming systems or move into platform teams.
"""

QUESTION = "what do data engineer interviews test?"


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    return ingested(tmp_path_factory, "units", {"overview.md": OVERVIEW, "data-engineer-guide.md": GUIDE})


def test_the_document_retrieval_found_the_answer_in_is_cited(kb: KnowledgeBase) -> None:
    passages = kb.search(QUESTION, k=6).passages
    writer = ExtractiveWriter(SentenceVectors(kb))
    cands = writer.score(QUESTION, passages)
    best = max(cands, key=lambda c: c.value)
    shares = {unit[0]: share for unit, share in unit_shares(passages).items()}
    # The situation under test: the overview's one sentence is valued best, the guide holds most of what was found.
    assert best.passage.source == "overview.md", [(c.passage.source, c.shown) for c in cands]
    assert shares["data-engineer-guide.md"] > shares["overview.md"]

    draft = writer.write(QUESTION, passages)
    assert draft is not None
    cited = {c.source for c in draft.citations}
    assert "data-engineer-guide.md" in cited, draft.text
    assert any("SQL fluency" in c.quote for c in draft.citations), draft.text
