"""The first thing a newcomer does: search the seeds offline."""

from knowledge.base import KnowledgeBase


def test_search_finds_jobs_at_risk_document(kb: KnowledgeBase) -> None:
    res = kb.search("which jobs are at risk from LLMs", k=3)
    assert res.passages[0].source == "003_0c1c93809ca1b7a8.txt"
    assert res.covered


def test_out_of_scope_question_is_not_covered(kb: KnowledgeBase) -> None:
    assert not kb.search("best pasta recipe for dinner", k=3).covered
