"""The role catalog on a Chinese Q&A page (tests/data/roles_faq_zh, our own text).

What a user notices in `careerbot roles` after ingesting such a page: a title the askers name after a
verb ("转数据分析师", "想做大模型算法工程师") is listed under the title alone, merged with the same title
elsewhere on the page; a title only an asker's question names ("文科生做AI训练师有前途吗") is a role whose
card quotes the answer below it; a bare generic title (开发工程师) or a title named once in an answer
(后端开发工程师) is not a role.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from knowledge.roles.names import zh_role_names
from tests.roles_cli import ingest_store, run_cli

CORPUS = Path(__file__).resolve().parent / "data" / "roles_faq_zh"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ingest_store(tmp_path_factory, CORPUS, "roles-faq-zh-store")


def test_roles_lists_the_titles_the_page_discusses_and_nothing_else(
        store: Path, clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    roles = json.loads(run_cli(store, monkeypatch, "roles", "--json"))["roles"]
    names = sorted(r["name"] for r in roles)
    assert names == sorted(["数据分析师", "大模型算法工程师", "AI训练师"]), names
    listed = " ".join(json.dumps(r, ensure_ascii=False) for r in roles)
    for not_a_role in ("转数据分析师", "开发工程师\"", "后端开发工程师"):
        assert not_a_role not in listed


def test_the_plain_listing_shows_each_title_once(store: Path, clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = run_cli(store, monkeypatch, "roles")
    assert out.count("数据分析师") >= 1 and "转数据分析师" not in out
    assert "大模型算法工程师" in out and "AI训练师" in out


def test_a_role_only_a_question_names_gets_a_card_quoting_the_answer(
        store: Path, clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = run_cli(store, monkeypatch, "role", "AI训练师")
    assert "示范对话" in out


@pytest.mark.parametrize(
    ("text", "titles"),
    [
        ("转数据分析师还来得及吗", ["数据分析师"]),
        ("转化率分析师负责漏斗", ["转化率分析师"]),  # 转 is part of the word 转化率 here
        ("现在学大模型算法工程师还来得及吗", ["大模型算法工程师"]),
        ("打算投递推荐算法工程师", ["推荐算法工程师"]),
        ("很多开发工程师也在转型", ["开发工程师"]),
        ("文科生能做AI训练师吗", ["AI训练师"]),
        ("机器学习工程师", ["机器学习工程师"]),
        ("我觉得数据分析师更稳", ["数据分析师"]),
    ],
)
def test_verbs_before_a_chinese_title_are_not_part_of_it(text: str, titles: list[str]) -> None:
    assert zh_role_names(text) == titles
