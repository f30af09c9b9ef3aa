"""How retrieval fuses its two scores (knowledge/retrieval.py ``_fuse``): a passage that holds the question's exact,
rare terms by a wide BM25 margin comes first, not a general introduction the dense model finds a little closer.

Our own documents, a real store and the bundled embedder. The introductions talk about AI and work in general (what
any career question is vaguely close to); one section of the guide is about the job the question names.
"""

from __future__ import annotations

import numpy as np
import pytest

from knowledge.base import KnowledgeBase
from knowledge.retrieval import LexicalIndex, _agreement, _fuse, as_passage
from knowledge.store import StoredChunk
from tests.ingested import ingested

INTRO = """# How AI is changing work

Artificial intelligence is changing how companies hire, which jobs they create and which tasks they automate.
Many workers wonder whether their role will be replaced in a few years, and what they should learn next.

Employers say the change is uneven: some teams grow while others shrink, and nobody can predict every outcome.
"""

GUIDE = """# Jobs and automation

## Overview

Automation has always changed the labour market, and large language models are the latest wave of it.

## Warehouse pickers

Robots in fulfilment centres now carry shelves to the pickers, who spend less time walking between aisles.

## Court stenographers

Speech recognition now drafts most trial transcripts. Stenographers who once typed them live increasingly review
and certify the drafts instead, and fewer newcomers are trained each year.

## Tour guides

Audio guides on phones cover the famous museums, yet people still book human tour guides for small groups.

## Bank tellers

Most deposits now happen in apps, so branches need fewer tellers and train the remaining ones as advisers.

## Radiographers

Software flags suspicious scans for a second look, while radiographers still position patients and run the machines.

## Copy editors

Grammar tools catch most typos, so copy editors spend more of their day on structure, tone and fact checks.
"""

QUESTIONS = [
    "Will AI replace court stenographers?",
    "are stenographers going to lose their jobs to AI",
]
CHUNKS = [StoredChunk(cid, cid, {}) for cid in ("intro", "section", "other", "lexical-only")]
BY_ID = {c.id: i for i, c in enumerate(CHUNKS)}


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    return ingested(tmp_path_factory, "fusion", {"ai-and-work.md": INTRO, "jobs-and-automation.md": GUIDE})


@pytest.mark.parametrize("question", QUESTIONS)
def test_the_section_about_the_named_job_comes_first(kb: KnowledgeBase, question: str) -> None:
    r = kb.search(question, k=5)
    assert "stenographers" in r.passages[0].text.lower(), [(p.source, p.text[:60], p.score) for p in r.passages]


def test_scores_keep_their_scale_in_lexical_search(kb: KnowledgeBase) -> None:
    # A lexical-only search (the glossary's other-language terms) scores like the BM25 part of a hybrid search, so
    # its passages, added to a hybrid search's, never outrank the passages both models found.
    hybrid = kb.search(QUESTIONS[0], k=5)
    lexical = kb.search(QUESTIONS[0], k=5, mode="lexical")
    assert lexical.passages and max(p.score for p in lexical.passages) < hybrid.passages[0].score



def test_a_wide_bm25_lead_beats_a_slightly_closer_cosine() -> None:
    # The dense model puts a general introduction a hair ahead; BM25 finds the question's exact terms only in the
    # section. Reciprocal ranks would call this a tie broken by the dense rank; scores do not.
    dense = {"intro": 0.35, "section": 0.33, "other": 0.20}
    bm25 = np.array([2.0, 16.0, 1.0, 0.0], dtype=np.float32)
    fused = _fuse(dense, bm25, CHUNKS, BY_ID, 30, 0.2)
    assert max(fused, key=lambda c: fused[c]) == "section"


def test_a_narrow_bm25_lead_does_not_overturn_a_clear_dense_lead() -> None:
    dense = {"intro": 0.55, "section": 0.30, "other": 0.20}
    bm25 = np.array([15.0, 16.0, 1.0, 0.0], dtype=np.float32)
    fused = _fuse(dense, bm25, CHUNKS, BY_ID, 30, 0.2)
    assert max(fused, key=lambda c: fused[c]) == "intro"


def test_a_bm25_only_hit_scores_no_higher_than_the_weakest_dense_hit_plus_its_bm25_share() -> None:
    dense = {"intro": 0.40, "section": 0.30}
    bm25 = np.array([0.0, 0.0, 0.0, 8.0], dtype=np.float32)
    fused = _fuse(dense, bm25, CHUNKS, BY_ID, 30, 0.2)
    assert fused["lexical-only"] == 0.30 + 0.2
    assert _fuse(dense, np.zeros(4, dtype=np.float32), CHUNKS, BY_ID, 30, 0.2) == dense


def test_a_passage_scores_the_same_however_many_neighbours_the_vector_search_returned(kb: KnowledgeBase) -> None:
    # Which far-off chunks an approximate nearest-neighbour search returns varies between processes. A BM25 hit the
    # vector search did not return is scored by its own cosine, read from the store, so its score (and the answer)
    # is the same on every replica, not "the weakest neighbour returned" plus its BM25 share.
    question = QUESTIONS[1]
    deep = {p.id: p for p in kb.retriever.search(question, k=10, depth=30).passages}
    shallow = kb.retriever.search(question, k=10, depth=2).passages
    nearest = {c.id for c, _ in kb.store.query(kb.embedder.embed_query(question), 2)}
    lexical_only = [p for p in shallow if p.id not in nearest]
    assert lexical_only, "the question's BM25 hits should reach past its two nearest chunks"
    for p in shallow:
        assert p.id in deep and p.dense is not None
        assert p.score == pytest.approx(deep[p.id].score, abs=1e-4), p.text[:60]


def test_rare_terms_do_not_depend_on_the_order_of_tied_words() -> None:
    # Three question words the corpus spells equally rarely (once each, in different chunks): which two counted as
    # "the two rarest" used to follow set order, which Python salts per process, so two replicas could decide the
    # same question differently. Ties with the second rarest now count too, whatever the order.
    docs = [["equity", "salary"], ["visa", "salary"], ["lottery", "salary"], ["salary"]]
    chunks = [StoredChunk(f"c{i}", " ".join(d), {"lex": " ".join(d)}) for i, d in enumerate(docs)]
    by_id = {c.id: i for i, c in enumerate(chunks)}
    lex = LexicalIndex(docs)
    top = [as_passage(chunks[0], 1.0)]
    shares = set()
    for tokens in (["equity", "visa", "lottery"], ["lottery", "visa", "equity"], ["visa", "lottery", "equity"]):
        scores = lex.scores(tokens)
        shares.add(_agreement([], scores, chunks, lex, tokens, top, by_id)["rare_terms"])
    assert shares == {round(1 / 3, 4)}
