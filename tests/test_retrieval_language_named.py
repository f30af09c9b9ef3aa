"""A question that names a document's language ("the Chinese post", "那篇英文文章") is about the documents written in
it: they rank as if they held the question's words. Our own documents (an English and a Chinese article on the same
trade), a real store and the bundled embedder."""

from __future__ import annotations

import pytest

from knowledge.base import KnowledgeBase
from knowledge.text import names_other_language
from tests.ingested import ingested

ENGLISH = """# Why bakers start before dawn

Most bread bakers begin their shift at three in the morning, because dough needs hours to rise before the shop opens.
Bakers who switch to pastry often keep the early hours but gain a steadier weekly schedule.
Apprentices usually learn shaping and scoring first, and ovens last.
"""

CHINESE = """# 面包师的一天

大多数面包师凌晨三点就开始工作，因为面团在开店前需要几个小时发酵。
转做甜点的面包师往往还是要早起，但每周的排班会更稳定。
学徒一般先学整形和割包，最后才学怎么用烤炉。
"""


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    return ingested(tmp_path_factory, "language-named", {"bakers.md": ENGLISH, "mianbaoshi.md": CHINESE})


def test_an_english_question_naming_the_chinese_article_finds_it_first(kb: KnowledgeBase) -> None:
    plain = kb.search("What does the article say about apprentices?", k=2).passages
    named = kb.search("What does the Chinese article say about apprentices?", k=2).passages
    assert plain[0].source == "bakers.md"  # naming no document, the question's own language wins
    assert named[0].source == "mianbaoshi.md"


def test_naming_the_english_article_lifts_it_for_a_chinese_question(kb: KnowledgeBase) -> None:
    # Both articles say the same, so the Chinese one, in the question's words, still ranks first; the English one
    # gains a full BM25 match's weight (a closer call would flip, as above).
    def english_score(question: str) -> float:
        return next(p.score for p in kb.search(question, k=2).passages if p.source == "bakers.md")

    assert english_score("那篇英文文章说学徒先学什么？") > english_score("那篇文章说学徒先学什么？") + 0.1


def test_only_the_other_language_counts_as_a_document_reference() -> None:
    assert names_other_language("What does the Chinese blogger say about LLM jobs?") == "zh"
    assert names_other_language("那篇英文文章怎么看提示词工程？") == "en"
    assert names_other_language("Is the English article about bakers?") is None  # its own language: no reference
    assert names_other_language("中文资料里怎么说？") is None
    assert names_other_language("How do bakers plan their week?") is None
