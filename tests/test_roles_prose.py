"""The role catalog on a blog post that discusses roles in running prose, not in headings or lead-ins.

What a user notices after `careerbot ingest` of such a post: the titles its paragraphs keep talking
about ("Site reliability engineers keep …", "Unlike site reliability engineers, platform engineers …")
are roles with cards, while its section titles, generic nouns ("Engineers on both teams", "Hiring
managers") and a title named once in passing ("a product designer") are not.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.role_service import RoleService
from bot.settings import Settings
from knowledge.base import KnowledgeBase
from knowledge.config import KnowledgeConfig
from knowledge.roles import Role, RoleCatalog, normalize, slug
from knowledge.roles.extract import contrasted_titles, subject_titles
from knowledge.roles.outlook import OutlookReader

CORPUS = Path(__file__).resolve().parent / "data" / "roles_prose"
POST = "reliability-hiring-notes.html"


@pytest.fixture(scope="module")
def prose_kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    kb = KnowledgeBase(KnowledgeConfig(data_dir=tmp_path_factory.mktemp("roles-prose-store")))
    kb.ingest([CORPUS])
    return kb


@pytest.fixture(scope="module")
def catalog(prose_kb: KnowledgeBase) -> RoleCatalog:
    return prose_kb.role_catalog()


@pytest.fixture(scope="module")
def service(prose_kb: KnowledgeBase) -> RoleService:
    return RoleService(prose_kb, Settings.from_env({}, dotenv=False))


def test_titles_the_prose_keeps_talking_about_are_the_only_roles(catalog: RoleCatalog) -> None:
    assert sorted(normalize(r.name) for r in catalog.roles) == ["platform engineer", "site reliability engineer"]
    for not_a_role in ("product designer", "hiring manager", "engineer", "why the titles blur"):
        m = catalog.match(not_a_role)
        assert m is None or m.kind in ("fuzzy", "free text"), (not_a_role, m)


def test_a_prose_role_gets_a_card_quoting_its_own_sentences(service: RoleService) -> None:
    result = service.card("platform engineer")
    assert result.card is not None
    does = next(s for s in result.card.sections if s.key == "does")
    quoted = " ".join(result.card.citations[n - 1].quote for ln in does.lines for n in ln.citations)
    assert "internal tooling" in quoted
    assert all(c.source == POST for c in result.card.citations)


@pytest.mark.parametrize(
    ("sentence", "subjects", "contrasted"),
    [
        ("Data engineers build pipelines every day.", ["Data engineers"], []),
        ("An analytics engineer is a hybrid of two jobs.", ["analytics engineer"], []),
        ("At most startups, data engineers also own the warehouse.", ["data engineers"], []),
        ("Data engineers and analytics engineers share most tools.", ["Data engineers", "analytics engineers"], []),
        ("Data engineers differ from data analysts in one way.", ["Data engineers"], ["data analysts"]),
        ("Unlike data analysts, data engineers write production code.", ["data engineers"], ["data analysts"]),
        ("Demand for data engineers is high.", [], []),
        ("Engineers like good tools.", [], []),
        ("The data engineer's toolkit is large.", [], []),
        ("In 2024, many companies hired prompt engineers.", [], []),
    ],
)
def test_subject_of_a_sentence(sentence: str, subjects: list[str], contrasted: list[str]) -> None:
    assert subject_titles(sentence) == subjects
    assert contrasted_titles(sentence) == contrasted


def _outlook_quotes(service: RoleService, name: str) -> tuple[str, list[str], str]:
    result = service.card(name)
    assert result.card is not None
    section = next(s for s in result.card.sections if s.key == "outlook")
    quotes = [result.card.citations[n - 1].quote for ln in section.lines for n in ln.citations]
    return result.card.outlook, quotes, " ".join(ln.text for ln in section.lines)


def test_outlook_stated_in_prose_is_quoted_without_a_direction_it_cannot_read(service: RoleService) -> None:
    # "plans to hire more platform engineers next year": no direction word ("growing", "demand", "fewer"),
    # yet it answers "are companies hiring more of these people?". The card quotes it as the outlook and
    # names no direction of its own.
    outlook, quotes, text = _outlook_quotes(service, "platform engineer")
    assert any("plans to hire more platform engineers" in q for q in quotes), quotes
    assert outlook == "unclear" and "sources see this role as" not in text
    assert "say nothing" not in text


def test_outlook_quotes_the_automation_sentence_not_the_interview_anecdote(service: RoleService) -> None:
    outlook, quotes, _ = _outlook_quotes(service, "site reliability engineer")
    assert outlook == "at risk"
    assert any("Automated runbooks" in q for q in quotes), quotes
    assert not any("threatened" in q for q in quotes), quotes


@pytest.mark.parametrize(
    ("name", "prospects", "duties"),
    [
        ("data engineer", "Companies are hiring far more data engineers than two years ago.",
         "Data engineers build and maintain the pipelines that move data between systems."),
        ("数据工程师", "这两年招聘数据工程师的公司明显变多了，好的候选人手里常常有好几个offer。",
         "数据工程师主要负责搭建和维护数据管道。"),
    ],
)
def test_outlook_reading_prefers_prospects_to_duties_in_both_languages(
        prose_kb: KnowledgeBase, name: str, prospects: str, duties: str) -> None:
    reader = OutlookReader(lambda texts: prose_kb.embed(texts))
    (good, _), (plain, _) = reader.read(Role(slug(name), name), [prospects, duties])
    assert good > 0 > plain, (good, plain)
