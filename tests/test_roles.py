"""Role catalog and role cards over the real seeded store (embedded Chroma, bundled embedder).

What a user notices: the roles the documents speak about are listed, whatever they type
(alias, typo, Chinese, a description) finds the right card, every line of a card is cited
with a quote found verbatim in the seed file, and an unknown role gives suggestions and
the catalog instead of an error.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import cli
from bot.role_cards import RoleResult
from bot.role_service import RoleService
from bot.settings import Settings
from knowledge.base import KnowledgeBase
from knowledge.config import KnowledgeConfig
from knowledge.readers import quote_in_document
from knowledge.roles import build_catalog

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
JOBS_DOC = "003_0c1c93809ca1b7a8.txt"
ZH_DOC = "004_a012fad4e6cda691.txt"
CAREERS_DOC = "002_6b8724d9c7ee2d25.txt"


@pytest.fixture(scope="module")
def service(kb: KnowledgeBase) -> RoleService:
    return RoleService(kb, Settings.from_env({}, dotenv=False))


def _seed_text(source: str) -> str:
    return (SEEDS / source).read_text(encoding="utf-8")


def assert_cited_verbatim(result: RoleResult, folder: Path = SEEDS) -> None:
    """Every [n] resolves, citations are numbered 1..N, every quote is verbatim in its file."""
    assert result.card is not None
    card = result.card
    numbers = [c.n for c in card.citations]
    assert numbers == list(range(1, len(numbers) + 1))
    for c in card.citations:
        raw = (folder / c.source).read_text(encoding="utf-8")
        assert c.quote.strip() and quote_in_document(c.quote, raw, Path(c.source).suffix), (c.source, c.quote)
    for section in card.sections:
        for line in section.lines:
            for n in line.citations:
                assert 1 <= n <= len(card.citations)
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", result.to_text())}
    assert markers <= set(numbers)


# -- catalog -----------------------------------------------------------------------------------

EXPECTED_ROLES = {
    "Machine Learning Engineer": "growing",
    "Data Scientist": "growing",
    "Research Scientist": None,
    "AI Specialist": "growing",
    "AI Ethics Professional": "growing",
    "Prompt Engineer": "growing",
    "AI Auditor": "growing",
    "LLM Inference Engineer": "growing",
    "Recommendation Algorithm Engineer": "at risk",
    "Customer Service Representative": "at risk",
    "Content Writer / Editor": "at risk",
    "Translator / Interpreter": "at risk",
    "Educator / Coach": "growing",
    "Technology Lawyer": "growing",
}


def test_catalog_lists_every_role_the_documents_speak_about_with_outlook(kb: KnowledgeBase) -> None:
    catalog = kb.role_catalog()
    by_name = {r.name: r for r in catalog.roles}
    assert set(EXPECTED_ROLES) <= set(by_name)
    for name, outlook in EXPECTED_ROLES.items():
        if outlook:
            assert by_name[name].outlook == outlook, (name, by_name[name].outlook_scores)
    assert by_name["Recommendation Algorithm Engineer"].sources == [ZH_DOC]
    assert JOBS_DOC in by_name["Translator / Interpreter"].sources
    assert "机器学习工程师" in by_name["Machine Learning Engineer"].terms()


def test_catalog_comes_from_the_stored_chunks_not_the_alias_file(kb: KnowledgeBase) -> None:
    """Only the careers document: its four defined roles, none of the jobs-at-risk ones."""
    chunks = [c for c in kb.retriever.chunks if c.metadata.get("source") == CAREERS_DOC]
    names = {r.name for r in build_catalog(chunks).roles}
    assert {"Machine Learning Engineer", "Data Scientist", "Research Scientist", "AI Specialist"} <= names
    assert not names & {"Translator / Interpreter", "Customer Service Representative", "Prompt Engineer"}


def test_catalog_is_cached_per_store_version(kb: KnowledgeBase) -> None:
    assert kb.role_catalog() is kb.role_catalog()


def test_catalog_text_and_blocks_list_the_roles(service: RoleService) -> None:
    text = service.catalog_text()
    for name in EXPECTED_ROLES:
        assert name in text
    assert "[at risk]" in text and "推荐算法" in text
    blocks = service.catalog_blocks()
    assert 0 < len(blocks) <= 50
    flat = json.dumps(blocks, ensure_ascii=False)
    assert "Translator / Interpreter" in flat
    for b in blocks:
        if b["type"] == "section":
            assert len(b["text"]["text"]) <= 3000


# -- matching -----------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("query", "role", "kind"),
    [
        ("Data Scientist", "Data Scientist", "exact"),
        ("translator", "Translator / Interpreter", "alias"),
        ("MLE", "Machine Learning Engineer", "alias"),
        ("ML engineers", "Machine Learning Engineer", "alias"),
        ("ml eng", "Machine Learning Engineer", "fuzzy"),
        ("data scientsit", "Data Scientist", "fuzzy"),
        ("machine lerning enginer", "Machine Learning Engineer", "fuzzy"),
        ("推荐算法工程师", "Recommendation Algorithm Engineer", "exact"),
        ("推荐算法", "Recommendation Algorithm Engineer", "alias"),
        ("翻译", "Translator / Interpreter", "alias"),
        ("客服", "Customer Service Representative", "exact"),
        ("大模型推理工程师", "LLM Inference Engineer", "exact"),
        ("机器学习工程师", "Machine Learning Engineer", "exact"),
        ("what does a research scientist do?", "Research Scientist", "exact"),
        ("prompt-engineer", "Prompt Engineer", "exact"),
        ("is my job as a translator at risk?", "Translator / Interpreter", "alias"),
        ("someone who writes prompts", "Prompt Engineer", "free text"),
        ("who analyzes complex datasets for businesses", "Data Scientist", "free text"),
    ],
)
def test_match_finds_the_role(service: RoleService, query: str, role: str, kind: str) -> None:
    result = service.card(query)
    assert result.matched and result.card is not None, result.suggestions
    assert result.card.name == role
    assert result.match_kind == kind


def test_no_match_gives_catalog_and_suggestions_not_an_error(service: RoleService) -> None:
    result = service.card("pastry chef")
    assert not result.matched and result.card is None
    assert {e.name for e in result.catalog} >= set(EXPECTED_ROLES)
    text = result.to_text()
    assert "No role in the knowledge base matches" in text and "Translator / Interpreter" in text
    data = result.to_json()
    assert data["matched"] is False and data["card"] is None and data["catalog"]
    assert len(result.to_blocks()) <= 50


def test_ambiguous_name_suggests_the_candidates(service: RoleService) -> None:
    result = service.card("engineer")
    assert not result.matched
    assert {"Machine Learning Engineer", "Prompt Engineer"} & set(result.suggestions)
    assert "Did you mean" in result.to_text()


def test_empty_query_is_the_catalog(service: RoleService) -> None:
    result = service.card("   ")
    assert not result.matched and result.suggestions == []
    assert "roles in the knowledge base" in result.to_text()


def test_empty_store_offers_to_ingest(tmp_path: Path) -> None:
    empty = KnowledgeBase(KnowledgeConfig(data_dir=tmp_path / "empty"))
    service = RoleService(empty, Settings.from_env({}, dotenv=False))
    result = service.card("translator")
    assert not result.matched and result.catalog == []
    assert "careerbot ingest" in result.to_text()
    assert service.catalog_blocks()[0]["type"] == "section"


# -- cards -----------------------------------------------------------------------------------------

def test_translator_card_says_why_exposed_and_what_keeps_human_value(service: RoleService) -> None:
    result = service.card("translator")
    assert_cited_verbatim(result)
    card = result.card
    assert card is not None and card.outlook == "at risk"
    outlook = next(s for s in card.sections if s.key == "outlook")
    outlook_text = " ".join(ln.text for ln in outlook.lines)
    assert "disrupt jobs in translation" in outlook_text
    human = next(s for s in card.sections if s.key == "human")
    assert "cultural context" in " ".join(ln.text for ln in human.lines)
    assert {c.source for c in card.citations} == {JOBS_DOC}
    assert "Content Writer / Editor" in card.related


def test_chinese_query_finds_the_recommendation_engineer_card(service: RoleService) -> None:
    result = service.card("推荐算法工程师")
    assert_cited_verbatim(result)
    card = result.card
    assert card is not None and card.name == "Recommendation Algorithm Engineer"
    assert card.outlook == "at risk" and card.language == "zh"
    quotes = " ".join(c.quote for c in card.citations)
    assert "见顶" in quotes and "萎靡" in quotes  # traffic growth has peaked, demand is weak
    assert "LLM Inference Engineer" in card.related
    assert "推荐算法工程师" in result.to_text()


def test_every_catalog_card_is_cited_verbatim(service: RoleService) -> None:
    for entry in service.entries():
        result = service.card(entry.name)
        assert result.matched and result.card is not None and result.card.name == entry.name
        assert_cited_verbatim(result)
        assert result.card.citations, entry.name
        keys = [s.key for s in result.card.sections]
        assert keys[:3] == ["does", "skills", "outlook"]


def test_card_json_contract(service: RoleService) -> None:
    data = json.loads(json.dumps(service.card("ml eng").to_json()))
    assert data["matched"] is True and data["match"] == "fuzzy" and data["query"] == "ml eng"
    assert data["card"]["name"] == "Machine Learning Engineer" and data["card"]["outlook"] == "growing"
    assert [s["key"] for s in data["card"]["sections"]][:3] == ["does", "skills", "outlook"]
    cited = {n for s in data["card"]["sections"] for ln in s["lines"] for n in ln["citations"]}
    assert cited == {c["n"] for c in data["citations"]}
    for c in data["citations"]:
        assert {"n", "source", "title", "url", "quote"} <= set(c)
        assert c["quote"] in _seed_text(c["source"])


def test_card_blocks_respect_slack_limits(service: RoleService) -> None:
    for query in ("translator", "推荐算法工程师", "data scientist"):
        blocks = service.card(query).to_blocks()
        assert 0 < len(blocks) <= 45
        assert blocks[0]["type"] == "header" and len(blocks[0]["text"]["text"]) <= 150
        for b in blocks:
            if b["type"] == "section":
                assert len(b["text"]["text"]) <= 3000
            if b["type"] == "context":
                assert all(len(el["text"]) <= 3000 for el in b["elements"])


# -- CLI -------------------------------------------------------------------------------------------

@pytest.fixture
def cli_env(clean_env: Path, kb_data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CAREERBOT_DATA_DIR", str(kb_data_dir))  # read-only use of the seeded store
    return kb_data_dir


def test_cli_role_prints_a_cited_card(cli_env: Path) -> None:
    res = CliRunner().invoke(cli, ["role", "translator"])
    assert res.exit_code == 0, res.output
    assert "Translator / Interpreter — at risk" in res.output
    assert "cultural context" in res.output and "[1]" in res.output and JOBS_DOC in res.output


def test_cli_role_json_and_no_match_exit_zero(cli_env: Path) -> None:
    res = CliRunner().invoke(cli, ["role", "推荐算法工程师", "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["matched"] and data["card"]["name"] == "Recommendation Algorithm Engineer"
    assert all(c["source"] == ZH_DOC for c in data["citations"])
    miss = CliRunner().invoke(cli, ["role", "pastry chef"])
    assert miss.exit_code == 0 and "No role in the knowledge base matches" in miss.output


def test_cli_roles_lists_the_catalog(cli_env: Path) -> None:
    res = CliRunner().invoke(cli, ["roles"])
    assert res.exit_code == 0, res.output
    assert "Machine Learning Engineer" in res.output and "[growing]" in res.output and "MLE" in res.output
