"""`/career-role` and `/career-roles` round trip: signed slash commands to the real HTTP server,
replies through response_url to the fake Slack Web API (tests/fakes/slack_server.py).

What the asker sees: a private card that restates the question, cites the right document,
fits Slack's limits and can be shared; an unknown role gets suggestions and the catalog.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from bot.pipeline import build_pipeline
from bot.server import EVENTS_PATH, HTTPServer
from bot.settings import Settings
from bot.slack_app import SlackBot, check_auth, make_client
from knowledge.base import KnowledgeBase
from tests.fakes.slack_server import TEST_SIGNING_SECRET, Call, FakeSlack, deliver, form_body

ZH_DOC = "004_a012fad4e6cda691.txt"
FORM = "application/x-www-form-urlencoded"


@pytest.fixture(scope="module")
def bot_url(kb: KnowledgeBase, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FakeSlack, str]]:
    data_dir = tmp_path_factory.mktemp("roles_slack")
    with FakeSlack() as slack:
        settings = Settings.from_env(
            {
                "SLACK_BOT_TOKEN": "xoxb-test-0000",
                "SLACK_SIGNING_SECRET": TEST_SIGNING_SECRET,
                "SLACK_API_URL": slack.api_url,
                "CAREERBOT_DATA_DIR": str(data_dir),
                "CAREERBOT_RATE_LIMIT_PER_MINUTE": "1000",
            },
            dotenv=False,
        )
        client = make_client(settings, settings.slack_bot_token)
        bot = SlackBot(settings, build_pipeline(settings, kb=kb), auth=check_auth(client, settings.slack_api_url),
                       client=client)
        server = HTTPServer(bot, "127.0.0.1", 0)
        server.start()
        try:
            yield slack, f"http://127.0.0.1:{server.port}{EVENTS_PATH}"
        finally:
            server.stop(drain_timeout_s=10)


def _command(slack: FakeSlack, name: str, text: str, hook: str) -> bytes:
    return form_body({"command": name, "text": text, "user_id": "U0ROLE01", "channel_id": "C0ROLE01",
                      "team_id": "T0TEST001", "response_url": slack.response_url(hook), "trigger_id": "9.9.9",
                      "api_app_id": "A0TEST001"})


def _reply(slack: FakeSlack, hook: str, timeout: float = 30.0) -> Call:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [c for c in slack.calls("response_url") if c.path.endswith("/" + hook)]
        if found:
            return found[0]
        time.sleep(0.05)
    raise AssertionError(f"no response_url post to {hook}")


def _check_limits(blocks: list[dict[str, Any]]) -> None:
    assert 0 < len(blocks) <= 50
    for b in blocks:
        if b["type"] == "section":
            assert len(b["text"]["text"]) <= 3000
        if b["type"] == "header":
            assert len(b["text"]["text"]) <= 150


def test_career_role_slash_command_round_trip(bot_url: tuple[FakeSlack, str]) -> None:
    slack, url = bot_url
    sent = deliver(url, _command(slack, "/career-role", "推荐算法工程师", "zhrole"), content_type=FORM)
    assert sent.status == 200 and sent.seconds < 3  # acked before the card is built

    reply = _reply(slack, "zhrole").params
    assert reply["response_type"] == "ephemeral"
    blocks = reply["blocks"]
    _check_limits(blocks)
    flat = json.dumps(blocks, ensure_ascii=False)
    assert "推荐算法工程师" in json.dumps(blocks[0], ensure_ascii=False)  # the query is restated first
    header = next(b for b in blocks if b["type"] == "header")
    assert "Recommendation Algorithm Engineer" in header["text"]["text"]
    assert ZH_DOC in flat and "见顶" in flat and "[1]" in flat
    share = blocks[-1]
    assert share["type"] == "actions" and share["elements"][0]["action_id"] == "share_role"

    sent = deliver(url, _command(slack, "/career-role", "pastry chef", "norole"), content_type=FORM)
    assert sent.status == 200
    miss = _reply(slack, "norole").params
    _check_limits(miss["blocks"])
    miss_flat = json.dumps(miss["blocks"], ensure_ascii=False)
    assert "No role in the knowledge base matches" in miss_flat and "Translator / Interpreter" in miss_flat
    assert not any(b["type"] == "actions" for b in miss["blocks"])  # nothing to share

    sent = deliver(url, _command(slack, "/career-roles", "", "catalog"), content_type=FORM)
    catalog = _reply(slack, "catalog").params
    _check_limits(catalog["blocks"])
    cat_flat = json.dumps(catalog["blocks"], ensure_ascii=False)
    for name in ("Machine Learning Engineer", "Translator / Interpreter", "Recommendation Algorithm Engineer"):
        assert name in cat_flat

    # `/career-role` with no name: the catalog too, with a line on how to ask for one role.
    deliver(url, _command(slack, "/career-role", "  ", "noname"), content_type=FORM)
    bare = _reply(slack, "noname").params
    _check_limits(bare["blocks"])
    bare_flat = json.dumps(bare["blocks"], ensure_ascii=False)
    assert "/career-role ROLE" in bare_flat and "Translator / Interpreter" in bare_flat


def test_slack_reply_text_carries_no_secret(bot_url: tuple[FakeSlack, str]) -> None:
    slack, url = bot_url
    deliver(url, _command(slack, "/career-role", "ml eng", "mleng"), content_type=FORM)
    reply = _reply(slack, "mleng").params
    assert "xoxb-test-0000" not in json.dumps(reply) and TEST_SIGNING_SECRET not in json.dumps(reply)
    assert "Machine Learning Engineer" in reply["text"]
    assert "Closest match" in json.dumps(reply["blocks"])  # a fuzzy match says so

