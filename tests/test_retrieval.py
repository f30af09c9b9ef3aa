"""Retrieval behaviour a user notices: the right document comes back in either language,
off-topic questions are flagged as not covered, and hybrid search is no worse than its parts.

Runs against the session's real knowledge base (seeds in an embedded Chroma, default embedder).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from knowledge.base import KnowledgeBase
from knowledge.glossary import expand
from knowledge.retrieval import LexicalIndex, Retrieval
from knowledge.text import tokenize

QUESTIONS = Path(__file__).resolve().parent.parent / "benchmarks" / "data" / "questions.jsonl"
ZH_DOC = "004_a012fad4e6cda691.txt"
LLM_JOBS_DOC = "003_0c1c93809ca1b7a8.txt"


def _questions() -> list[dict]:
    return [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]


def _sources(kb: KnowledgeBase, q: str, k: int = 3, mode: str = "hybrid") -> list[str]:
    return [p.source for p in kb.search(q, k=k, mode=mode).passages]  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def hybrid_results(kb: KnowledgeBase) -> list[tuple[dict, Retrieval]]:
    """Every question of the set searched once in hybrid mode (shared by the set-level tests)."""
    return [(q, kb.search(q["q"], k=5)) for q in _questions()]


def test_question_set_has_the_promised_shape() -> None:
    qs = _questions()
    assert len(qs) >= 60
    assert all(set(q) == {"q", "sources", "facts", "kind", "lang"} for q in qs)
    assert sum(q["lang"] == "zh" for q in qs) >= 20
    assert sum(q["kind"] == "out_of_scope" for q in qs) >= 12
    assert sum(q["kind"] == "adversarial" for q in qs) >= 6
    seeds = {p.name for p in (QUESTIONS.parents[2] / "seeds").iterdir()}
    for q in qs:
        assert (q["kind"] == "in_scope") == bool(q["sources"]), q["q"]
        assert set(q["sources"]) <= seeds, q["q"]


@pytest.mark.parametrize(
    "question",
    [
        "Why is the recommendation algorithm job market shrinking?",
        "Should a recommender engineer move into LLM inference?",
    ],
)
def test_english_question_finds_the_chinese_document(kb: KnowledgeBase, question: str) -> None:
    assert ZH_DOC in _sources(kb, question)


@pytest.mark.parametrize("question", ["大模型会取代翻译吗", "客服工作会被AI取代吗?"])
def test_chinese_question_finds_the_english_document(kb: KnowledgeBase, question: str) -> None:
    assert LLM_JOBS_DOC in _sources(kb, question)


def test_passages_carry_source_title_and_ranked_scores(kb: KnowledgeBase) -> None:
    r = kb.search("which jobs are at risk from LLMs", k=5)
    assert r.passages and r.passages[0].source == LLM_JOBS_DOC
    assert all(p.title and p.text for p in r.passages)
    scores = [p.score for p in r.passages]
    assert scores == sorted(scores, reverse=True)
    assert {"top_dense", "known_share", "top_bm25"} <= set(r.features)


@pytest.mark.parametrize(
    "question", ["What's a good recipe for lasagna?", "明天上海会下雨吗?", "Who won the Champions League in 2019?"]
)
def test_off_topic_questions_are_not_covered(kb: KnowledgeBase, question: str) -> None:
    r = kb.search(question)
    assert not r.covered, (r.coverage, r.features)


@pytest.mark.parametrize("question", ["What skills does a machine learning engineer need?", "推荐算法工程师该转行吗?"])
def test_career_questions_are_covered(kb: KnowledgeBase, question: str) -> None:
    r = kb.search(question)
    assert r.covered, (r.coverage, r.features)


def test_coverage_separates_the_question_set(hybrid_results: list[tuple[dict, Retrieval]]) -> None:
    inscope = [r.covered for q, r in hybrid_results if q["kind"] == "in_scope"]
    offtopic = [r.covered for q, r in hybrid_results if q["kind"] == "out_of_scope"]
    assert sum(inscope) / len(inscope) >= 0.9  # few false refusals
    assert sum(offtopic) / len(offtopic) <= 0.25  # few false answers


def test_hybrid_recall_is_at_least_as_good_as_either_part(
    kb: KnowledgeBase, hybrid_results: list[tuple[dict, Retrieval]]
) -> None:
    inscope = [(q, r) for q, r in hybrid_results if q["kind"] == "in_scope"]

    def recall3(mode: str) -> float:
        hits = 0
        for q, r in inscope:
            found = [p.source for p in r.passages[:3]] if mode == "hybrid" else _sources(kb, q["q"], 3, mode)
            hits += bool(set(found) & set(q["sources"]))
        return hits / len(inscope)

    dense, lexical, hybrid = recall3("dense"), recall3("lexical"), recall3("hybrid")
    assert hybrid >= 0.85, (dense, lexical, hybrid)
    assert hybrid >= max(dense, lexical) - 1 / len(inscope), (dense, lexical, hybrid)  # one question of slack


def test_bm25_ranks_chinese_words_segmented_by_jieba() -> None:
    docs = ["推荐算法岗位需求萎靡,流量增长见顶。", "大模型公司都在疯狂招人。", "The weather is nice today."]
    index = LexicalIndex([tokenize(d) for d in docs])
    scores = index.scores(tokenize("推荐算法的需求"))
    assert scores[0] > 0 and scores[1] == 0 and scores[2] == 0
    assert index.scores(tokenize("大模型招人"))[1] > 0
    assert index.known_share(tokenize("推荐算法")) == 1.0
    assert index.known_share(tokenize("红烧肉做法")) == 0.0


def test_glossary_bridges_english_and_chinese_terms() -> None:
    zh = "大模型会取代翻译吗"
    assert {"translation", "translator"} <= set(expand(zh, tokenize(zh)))
    en = "Will customer service jobs disappear?"
    assert "客服" in expand(en, tokenize(en))
    plain = "What's a good recipe for lasagna?"
    assert expand(plain, tokenize(plain)) == []


def test_shipped_chinese_segments_match_jieba() -> None:
    """data/zh_segments.json must be regenerated when glossary.tsv changes:
    python -c "import json; from knowledge.glossary import segment_table;
    print(json.dumps(segment_table(), ensure_ascii=False, indent=0, sort_keys=True))" > knowledge/data/zh_segments.json
    """
    import json
    from importlib import resources

    from knowledge.glossary import segment_table

    shipped = json.loads(resources.files("knowledge").joinpath("data/zh_segments.json").read_text("utf-8"))
    assert shipped == segment_table()
