"""LLM-written role cards against a fake OpenAI-compatible server (real openai client, real HTTP).

The model's card goes through the answers' citation check: a sentence the sources do not
support is dropped, markers pointing nowhere disappear, and every quote stays verbatim.
When the model fails, the offline card comes back with a note — never an error.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.role_service import RoleService
from bot.settings import Settings
from knowledge.base import KnowledgeBase
from knowledge.readers import quote_in_document
from tests.fakes.openai_server import FakeOpenAI, Reply

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
DISRUPT = "LLMs could disrupt jobs in translation and interpretation"
# Claims the model copies from a source are supported whatever embedder the citation check uses.
VERBATIM = ("Given their ability to understand and generate multiple languages, LLMs could disrupt jobs in "
            "translation and interpretation, especially those that do not require cultural context or nuanced "
            "understanding")
SERVICE = ("With their ability to understand and respond to customer queries, LLMs are increasingly being deployed "
           "in customer service roles")


@pytest.fixture
def fake_llm() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


def _settings(server: FakeOpenAI, tmp_path: Path) -> Settings:
    return Settings.from_env(
        {"OPENAI_API_KEY": "sk-test-0000", "OPENAI_BASE_URL": server.url, "CAREERBOT_DATA_DIR": str(tmp_path),
         "CAREERBOT_LLM_TIMEOUT": "5", "CAREERBOT_LLM_TOTAL_TIMEOUT": "5"},
        dotenv=False,
    )


def _source_number(request: dict[str, Any], needle: str) -> int:
    """The n of the <source> block in the prompt that contains ``needle``."""
    user = request["messages"][-1]["content"]
    for m in re.finditer(r'<source n="(\d+)"[^>]*>\n(.*?)\n</source>', user, re.S):
        if needle in m.group(2):
            return int(m.group(1))
    raise AssertionError(f"{needle!r} not in the prompt")


def test_llm_card_is_citation_checked(fake_llm: FakeOpenAI, kb: KnowledgeBase, tmp_path: Path) -> None:
    def respond(payload: dict[str, Any]) -> Reply:
        n = _source_number(payload, DISRUPT)
        return Reply.chat(
            f"DOES: Translators hold a pilot license and fly cargo planes across the Pacific [{n}].\n"
            "SKILLS: none\n"
            f"OUTLOOK: {VERBATIM} [{n}][99].\n"
            f"HUMAN: {VERBATIM} [{n}]."
        )

    fake_llm.push(respond)
    result = RoleService(kb, _settings(fake_llm, tmp_path)).card("translator")
    card = result.card
    assert card is not None and card.mode == "llm" and card.note is None
    text = result.to_text()
    assert "pilot license" not in text  # unsupported: dropped by the citation check
    assert "[99]" not in text
    outlook = next(s for s in card.sections if s.key == "outlook")
    assert "disrupt jobs in translation" in outlook.lines[0].text and outlook.lines[0].citations == [1]
    assert card.citations and all(
        quote_in_document(c.quote, (SEEDS / c.source).read_text(encoding="utf-8"), Path(c.source).suffix)
        for c in card.citations
    )
    assert any("cultural context" in c.quote for c in card.citations)
    system = fake_llm.chat_requests()[0]["json"]["messages"][0]["content"]
    assert "never instructions" in system


def test_llm_failure_falls_back_to_the_offline_card(fake_llm: FakeOpenAI, kb: KnowledgeBase, tmp_path: Path) -> None:
    fake_llm.push(Reply.malformed())
    service = RoleService(kb, _settings(fake_llm, tmp_path))
    result = service.card("customer service")
    card = result.card
    assert card is not None and card.mode == "extractive"
    assert card.note and "offline card" in card.note
    assert card.note in result.to_text()
    assert card.citations and card.outlook == "at risk"
    # The fallback is not cached: once the model answers, the card is written by it.
    fake_llm.push(lambda p: Reply.chat(f"OUTLOOK: {SERVICE} [{_source_number(p, 'customer service roles')}]."))
    again = service.card("customer service")
    assert again.card is not None and again.card.mode == "llm"


RESEARCH = ("These professionals conduct cutting-edge research in machine learning and LLMs, often working in academic "
            "or industrial research labs")


def test_llm_outlook_is_dropped_when_no_source_states_one(fake_llm: FakeOpenAI, kb: KnowledgeBase,
                                                          tmp_path: Path) -> None:
    """The seeds state no outlook for research scientists: whatever the model claims, the card says so."""
    def respond(payload: dict[str, Any]) -> Reply:
        n = _source_number(payload, "cutting-edge research")
        return Reply.chat(f"DOES: {RESEARCH} [{n}].\nSKILLS: none\nOUTLOOK: {RESEARCH} [{n}].")

    fake_llm.push(respond)
    result = RoleService(kb, _settings(fake_llm, tmp_path)).card("research scientist")
    card = result.card
    assert card is not None and card.mode == "llm" and card.outlook == "unclear"
    outlook = next(s for s in card.sections if s.key == "outlook")
    assert [ln.citations for ln in outlook.lines] == [[]] and "say nothing" in outlook.lines[0].text
    does = next(s for s in card.sections if s.key == "does")
    assert "cutting-edge research" in does.lines[0].text and does.lines[0].citations == [1]
    assert [c.n for c in card.citations] == [1]
