"""Stated outlooks on a Chinese Q&A page (tests/data/roles_outlook_zh, our own text).

What a user of `careerbot roles` / /roles notices after ingesting such a page: a role whose answer says
it is in demand (缺人, 吃香, 扩招) is listed as growing, one said to be saturated or cut (饱和, 被裁) as at
risk, with the sentence quoted on its card; a negation turns the word ("并不缺人" is not growing, "不会
被AI取代" is not at risk); an asker's question ("…有前途吗？") states nothing, so that role has no
outlook; after a turn ("…的说法很多，但…岗位反而越来越多") the sentence's own view counts. A title the
answers' prose keeps talking about ("X这两年…。这个岗位主要负责…") is a role; a bare generic title
(开发工程师) named in passing, or only as the asker's own job ("我是开发工程师，想转…"), is not.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from knowledge.roles.outlook import zh_cues
from tests.roles_cli import ingest_store, run_cli

CORPUS = Path(__file__).resolve().parent / "data" / "roles_outlook_zh"
EXPECTED = Path(__file__).resolve().parent / "data" / "roles_outlook_zh_expected.txt"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ingest_store(tmp_path_factory, CORPUS, "roles-outlook-zh-store")


def _roles(store: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, dict[str, object]]:
    return {r["name"]: r for r in json.loads(run_cli(store, monkeypatch, "roles", "--json"))["roles"]}


def test_the_roles_are_the_titles_the_answers_discuss(
        store: Path, clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    expected = [ln.strip() for ln in EXPECTED.read_text(encoding="utf-8").splitlines()
                if ln.strip() and not ln.startswith("#")]
    names = sorted(_roles(store, monkeypatch))
    assert names == sorted(expected), names
    assert "开发工程师" not in names and "产品经理" not in names


@pytest.mark.parametrize(
    ("role", "outlook"),
    [
        ("大模型产品经理", "growing"),  # 非常缺人
        ("搜索推荐算法工程师", "growing"),  # 很吃香 … 扩招, said of the title the answer opens with
        ("测试开发工程师", "at risk"),  # 已经饱和了
        ("计算机视觉算法工程师", "at risk"),  # 并不缺人: the negation turns the growth word
        ("运维开发工程师", "growing"),  # … 没有前途的说法很多，但 … 岗位反而越来越多
        ("标注项目经理", "unclear"),  # 不会被AI取代: not at risk, and not growing either
        ("语音识别算法工程师", "unclear"),  # only the asker's question says 有前途
        ("推理加速开发工程师", "unclear"),  # what the job does, no outlook
    ],
)
def test_the_listing_shows_the_outlook_the_answer_states(
        store: Path, clean_env: Path, monkeypatch: pytest.MonkeyPatch, role: str, outlook: str) -> None:
    assert _roles(store, monkeypatch)[role]["outlook"] == outlook


def test_the_card_quotes_the_sentence_that_states_the_outlook(
        store: Path, clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = run_cli(store, monkeypatch, "role", "计算机视觉算法工程师")
    assert "并不缺人" in out and "面临风险" in out
    out = run_cli(store, monkeypatch, "role", "语音识别算法工程师")
    assert "有前途吗" not in out


def test_a_role_the_answer_discusses_gets_a_card_with_what_it_does(
        store: Path, clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = run_cli(store, monkeypatch, "role", "搜索推荐算法工程师")
    assert "召回和排序模型" in out and "吃香" in out
    assert "内推" not in out  # the advert between the answers is no part of it


@pytest.mark.parametrize(
    ("text", "directions"),
    [
        ("这个方向前景很好。", ["growing"]),
        ("前景一般，坑位不多。", ["at risk", "at risk"]),
        ("需求在快速增长。", ["growing"]),
        ("现在卷得厉害。", ["at risk"]),
        ("卷积神经网络是基础。", []),  # 卷 inside another word
        ("这个岗位大多在北京。", []),  # 大 inside 大多
        ("岗位难度大。", []),  # 难度 is another subject between 岗位 and 大
        ("不少公司在扩招。", ["growing"]),  # 不少 is "many", not a negation
        ("没有前途。", ["at risk"]),
        ("不再吃香了。", ["at risk"]),
        ("不会被AI取代。", []),  # not at risk, which is not growing either
        ("现在没那么卷了。", ["growing"]),  # a market word's negation is its opposite
        ("这次没有被裁。", []),  # an event that did not happen says nothing of the market
        ("找工作不容易。", ["at risk"]),
        ("竞争越来越激烈。", ["at risk"]),  # more competition is the job's loss
        ("HC比去年多。", ["growing"]),  # the standard of a comparison in between
        ("需求在涨。", ["growing"]),
    ],
)
def test_chinese_words_of_direction_read_with_their_negation(text: str, directions: list[str]) -> None:
    assert [d for d, _, _ in zh_cues(text)] == directions
