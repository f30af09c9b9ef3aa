"""An ingested FAQ page with adverts between its answers: no answer ever quotes an advert.

The page is written for this test, in the shape public Chinese and English Q&A pages take: bold questions,
answers of one or two paragraphs, and between them paid-group, course and coaching adverts — with their
own short title lines, with and without a QR code or a WeChat contact, and one advert sentence tacked onto
the end of an answer. The real knowledge base (Chroma, the bundled embedder) and the offline pipeline.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.pipeline import Pipeline, build_pipeline
from bot.settings import Settings
from knowledge import contains_advert
from knowledge.base import KnowledgeBase
from knowledge.config import KnowledgeConfig
from knowledge.ingest import chunk_document, load_document

PAGE = "\n\n".join([
    '# 数据岗位求职答疑（第三期）',
    '整理了读者私信里问得最多的几个问题。',
    '**问：数据分析师和数据科学家的区别是什么？**',
    '答：数据分析师主要回答业务上“发生了什么”，日常是写 SQL、做报表和专题分析；数据科学家更多做预测和实验'
    '设计，需要更扎实的统计和建模能力。',
    '**【求职训练营】**',
    '数据岗求职训练营第七期火热报名中，原价2999元，现价1499元，前三十名再送简历精修一次，名额有限，私信报'
    '名！',
    '**问：转行做数据分析需要先学 Python 吗？**',
    '答：先学 SQL。绝大多数分析岗位的笔试都考 SQL，Python 可以等入职后在处理大表和自动化报表时再补。',
    '想要整理好的 SQL 笔试题库的同学，扫码加入我们的学习群免费领取。',
    '**问：作品集里放几个项目比较合适？**',
    '答：两到三个就够了，每个项目写清楚数据来源、你做的判断和带来的结果。需要项目模板的同学添加小助手微信'
    '，备注“作品集”即可领取。',
    '**Q: How long should a data analyst take-home assignment take?**',
    'A: Plan for four to six hours of focused work. Spend the first hour on understanding the data and '
    'the last hour on the write-up, because reviewers read the summary first.',
    '**Members only**',
    'Join our paid community for weekly mock interviews, and use code DATA40 for 40% off your first '
    'month.',
    "**Q: Is a master's degree required for data science roles?**",
    'A: Not for most industry roles. A portfolio of two solid projects and clear communication matter '
    'more than the degree, although research-heavy teams still prefer graduate training.',
]) + "\n"

QUESTIONS = [
    ("数据分析师和数据科学家有什么区别？", "报表"),
    ("转行做数据分析要先学Python吗？", "SQL"),
    ("作品集放几个项目合适？", "两到三个"),
    ("How long should a take-home assignment for a data analyst take?", "four to six hours"),
    ("Do I need a master's degree for a data science job?", "portfolio"),
]
ADVERT_WORDS = ("训练营", "原价", "扫码", "学习群", "小助手", "paid community", "DATA40", "Members only", "求职训练营")


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("faq") / "data-jobs-faq.md"
    path.write_text(PAGE, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def pipeline(page: Path, tmp_path_factory: pytest.TempPathFactory) -> Pipeline:
    data = tmp_path_factory.mktemp("store")
    kb = KnowledgeBase(KnowledgeConfig(data_dir=data))
    kb.ingest([page])
    return build_pipeline(Settings(data_dir=data, seeds_dir=page.parent), kb=kb)


def test_ingest_drops_the_adverts_and_their_titles_and_keeps_every_answer(page: Path) -> None:
    doc = load_document(page)
    chunks = chunk_document(doc)
    text = "\n".join(c.text for c in chunks)
    for word in ADVERT_WORDS:
        assert word not in text, word
    assert not any(contains_advert(c.text) for c in chunks)
    questions = {c.question for c in chunks} - {""}
    assert len(questions) == 5, questions
    # the answer the advert sentence was tacked onto keeps its own sentences
    (portfolio,) = [c for c in chunks if c.question.startswith("作品集")]
    assert portfolio.text.startswith("两到三个就够了") and "带来的结果" in portfolio.text
    assert any("promotional" in note for note in doc.stripped)


def test_no_answer_quotes_an_advert(pipeline: Pipeline) -> None:
    for question, fact in QUESTIONS:
        answer = pipeline.answer(question)
        assert not answer.refused, question
        assert answer.citations and all(c.source == "data-jobs-faq.md" for c in answer.citations)
        assert not contains_advert(answer.text), answer.text
        assert not any(contains_advert(c.quote) for c in answer.citations), answer.citations
        hay = " ".join([answer.text, *(c.quote for c in answer.citations)])
        assert fact.lower() in hay.lower(), (question, answer.text)
        for word in ADVERT_WORDS:
            assert word not in hay, (word, answer.text)
