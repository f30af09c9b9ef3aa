"""Tables, list intros and quotation sources as the offline writer shows them.

A table row is shown with its column names ("Apprenticeship — Share of researchers: 33%; …"; a name that asks keeps
its own mark: "Paid while training? Yes"), never with the
readers' cell separators, and the header row (names only) is never quoted; the sentence that announces a list
("…三样东西：") is joined to its items with one colon, not two, and does not reach past the list to a table or
a quotation; the line naming who said a quotation ("—— 一位…组长") is never quoted on its own. Our own text, a
real store and the bundled embedder; the writer is called directly, so the answerability decision does not
enter into it.
"""

from __future__ import annotations

import re

import pytest

from bot.extractive import Draft, ExtractiveWriter, candidates
from bot.similarity import SentenceVectors
from knowledge.base import KnowledgeBase
from tests.ingested import ingested

FIELD_GUIDE = """# Field guide to survey careers

## Routes into survey work

We asked 240 field researchers how they trained. The answers did not favour one route:

| Route | Share of researchers | Median cost (EUR) | Months to first contract | Paid while training? |
|---|---|---|---|---|
| Evening classes | 41% | 900 | 14 | No |
| Apprenticeship | 33% | 0 | 9 | Yes |
| University degree | 26% | 24,000 | 11 | Rarely |

Apprenticeships were the fastest route into paid field work in every region we visited.

## Advice from the field

Most survey teams hire for patience before they hire for speed, and they say so in the interview.
"""

CHAPTER_ZH = """# 第二章 测绘行业的职业选择

## 2.1 入行之前

做外业测量之前，需要先准备好三样东西：

- 一份能吃苦的心态和足够的体力
- 一张驾驶证，很多点位都在山里
- 一套自己熟悉的外业记录方法

> 外业最怕的不是累，而是记录出错以后回不去现场重测。
> —— 一位做了十二年外业的测量组长

## 2.2 收入与去向

下表是我们调查中三类测绘岗位的月收入中位数：

| 岗位 | 入行第一年 | 入行第五年 |
|---|---|---|
| 外业测量员 | 6500 元 | 11000 元 |
| 内业制图员 | 5800 元 | 9000 元 |
| 遥感数据分析师 | 8000 元 | 16000 元 |

遥感数据分析师的收入增长最快，但岗位集中在少数几个城市。
"""


FLEET_PAGE = """<!doctype html><html><head><title>Careers at sea</title></head><body>
<nav><a href="/">Home</a> <a href="/jobs">Jobs</a></nav>
<article><h1>Careers at sea</h1>
<p>We asked 180 crew members how long each ship role takes to learn and how often it sails.</p>
<table>
<thead><tr><th>Role</th><th>Months of training</th><th>Days at sea per year</th></tr></thead>
<tbody>
<tr><td>Deck officer</td><td>30</td><td>190</td></tr>
<tr><td>Marine engineer</td><td>36</td><td>170</td></tr>
<tr><td>Ship's cook</td><td>8</td><td>210</td></tr>
</tbody></table>
<p>Marine engineers train longest, because the engine room holds the most systems to certify.</p>
</article></body></html>
"""
DOCS = {"field-guide.md": FIELD_GUIDE, "cehui.md": CHAPTER_ZH, "careers-at-sea.html": FLEET_PAGE}


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    return ingested(tmp_path_factory, "tables", DOCS)


def _answer(kb: KnowledgeBase, question: str) -> Draft:
    draft = ExtractiveWriter(SentenceVectors(kb)).write(question, kb.search(question, k=6).passages)
    assert draft is not None
    return draft


def _raw(name: str) -> str:
    return DOCS[name]


def _page_text(html_page: str) -> str:
    """What a reader of the page sees, whitespace collapsed: the tags gone, cells one after another."""
    return " ".join(re.sub(r"<[^>]+>", " ", html_page).split())


def test_a_table_row_is_shown_with_its_column_names_and_quoted_verbatim(kb: KnowledgeBase) -> None:
    draft = _answer(kb, "How much does an apprenticeship cost, and how many months until the first contract?")
    assert ("Apprenticeship — Share of researchers: 33%; Median cost (EUR): 0; Months to first contract: 9; "
            "Paid while training? Yes") in draft.text  # a column name that asks gets no colon after its "?"
    assert " | " not in draft.text and "::" not in draft.text and "?:" not in draft.text
    row = next(c for c in draft.citations if c.quote.startswith("Apprenticeship"))
    assert row.quote in _raw(row.source)  # the citation quotes the row as the document has it


def test_a_chinese_table_row_reads_as_names_and_values(kb: KnowledgeBase) -> None:
    draft = _answer(kb, "遥感数据分析师入行第五年月收入多少？")
    assert "遥感数据分析师 — 入行第一年：8000 元，入行第五年：16000 元" in draft.text
    assert " | " not in draft.text and "：：" not in draft.text


def test_no_candidate_is_a_header_row_a_doubled_colon_or_a_quotation_source(kb: KnowledgeBase) -> None:
    passages = kb.search("外业测量需要准备什么，收入多少", k=8).passages + kb.search("survey routes", k=8).passages
    cands = candidates(passages)
    assert cands
    shown = [c.shown for c in cands]
    quotes = [c.quote for c in cands]
    assert not any("：：" in s or "::" in s for s in shown), shown
    assert not any(" | " in s for s in shown), shown
    assert not any(q.startswith(("岗位 |", "Route |")) for q in quotes), quotes  # header rows: names only
    assert not any("测量组长" in q and "外业最怕" not in q for q in quotes), quotes  # who said it, alone
    items = [s for s in shown if "一张驾驶证" in s]
    assert items and all(s.count("：") <= 1 for s in items), items


def test_the_verbatim_quotes_of_table_answers_are_in_the_source(kb: KnowledgeBase) -> None:
    for question in ("外业测量员和内业制图员第一年收入差多少？", "What does a university degree route cost?"):
        draft = _answer(kb, question)
        for c in draft.citations:
            assert c.quote in _raw(c.source), (question, c.quote)


def test_an_html_table_row_is_quoted_as_the_page_reads_not_with_cell_separators(kb: KnowledgeBase) -> None:
    # A web page's table has no pipes: its row reads "Marine engineer 36 170", and that is what the citation quotes.
    draft = _answer(kb, "How many months of training does a marine engineer need?")
    assert "Marine engineer — Months of training: 36; Days at sea per year: 170" in draft.text
    row = next(c for c in draft.citations if c.quote.startswith("Marine engineer"))
    assert row.quote == "Marine engineer 36 170"
    assert row.quote in _page_text(FLEET_PAGE)
