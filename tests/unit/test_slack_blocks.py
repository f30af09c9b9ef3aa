"""Block Kit rendering and Slack text handling: limits, escaping, markup decoding (votes: tests/test_state.py)."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.answer import Answer, Citation
from bot.blocks import MAX_BLOCKS, SECTION_LIMIT, answer_blocks, answer_fallback, split_text
from bot.markup import decode, escape
from bot.prompts import TRUNCATED_NOTE


def _answer(text: str, n_citations: int = 3) -> Answer:
    cites = [Citation(i, f"00{i}_doc.txt", f"Title {i}", f"https://example.com/{i}?a=1&b=2", "a quote " * 60)
             for i in range(1, n_citations + 1)]
    return Answer("q", text, False, "extractive", cites)


def _section_texts(blocks: list[dict]) -> list[str]:
    return [b["text"]["text"] for b in blocks if b["type"] == "section"]


def test_a_huge_answer_is_split_and_shortened_not_rejected() -> None:
    text = "\n\n".join(f"Paragraph {i}: " + "word & <tag> " * 300 for i in range(200))  # ~800k characters
    blocks = answer_blocks(_answer(text), "abc123")
    assert len(blocks) <= MAX_BLOCKS
    sections = _section_texts(blocks)
    assert all(len(s) <= SECTION_LIMIT for s in sections)
    assert sections[-1].endswith(TRUNCATED_NOTE)
    assert blocks[-1]["type"] == "actions"  # the buttons survive the truncation
    assert "<tag>" not in json.dumps(blocks)


def test_many_citations_still_fit() -> None:
    blocks = answer_blocks(_answer("short [1]", n_citations=40), "x")
    assert len(blocks) <= MAX_BLOCKS
    assert all(len(e["text"]) <= SECTION_LIMIT for b in blocks if b["type"] == "context" for e in b["elements"])


def test_sources_show_title_link_source_and_quote() -> None:
    blocks = answer_blocks(_answer("Translators are exposed [1].", 1), "id1")
    sources = json.dumps(blocks)
    assert "<https://example.com/1?a=1&amp;b=2|Title 1>" in sources
    assert "001_doc.txt" in sources and "a quote" in sources
    assert "Sources" in answer_fallback(_answer("x [1]", 1))


def test_broadcasts_and_user_pings_are_neutralised() -> None:
    hostile = "<!channel> <!here|here> <!everyone> @here @channel <@U123ABC> <https://evil.example|click>"
    out = escape(hostile)
    for ping in ("<!channel>", "<!here", "<!everyone>", "<@U123ABC>", "<https://", "@here", "@channel"):
        assert ping not in out
    blocks = json.dumps(answer_blocks(Answer("q", hostile, True, "extractive"), None))
    assert "<!channel>" not in blocks and "<@U123ABC>" not in blocks


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=12000))
def test_any_text_renders_within_limits(text: str) -> None:
    blocks = answer_blocks(_answer(text, 2), "id")
    assert 1 <= len(blocks) <= MAX_BLOCKS
    assert all(len(s) <= SECTION_LIMIT for s in _section_texts(blocks))
    rendered = json.dumps(blocks)
    assert "<!" not in rendered and "<@" not in rendered


@given(st.text(max_size=5000), st.integers(min_value=20, max_value=3000))
def test_split_text_respects_the_limit_and_loses_no_words(text: str, limit: int) -> None:
    pieces = split_text(escape(text), limit)
    assert all(len(p) <= limit for p in pieces)
    assert "".join("".join(pieces).split()) == "".join(escape(text).strip().split())


def test_slack_markup_is_decoded_for_the_pipeline() -> None:
    text = "<@UBOT> what does <@U42|alice> think of <#C1|ml-jobs> and <https://x.example/a|this post>? R&amp;D &lt;3"
    assert decode(text, bot_user_id="UBOT") == "what does @alice think of #ml-jobs and this post? R&D <3"
    assert decode("<@UBOT>", bot_user_id="UBOT") == ""
    assert decode("<@U9> hi", bot_user_id="UBOT", user_name=lambda u: "bob") == "@bob hi"
    assert decode("<!here> ping <mailto:a@b.c|a@b.c>") == "here ping a@b.c"
