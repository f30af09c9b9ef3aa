"""The Slack app end to end, offline: signed requests to the real HTTP server, a fake Slack Web API.

The bot runs in-process (front door + job runner, free loopback port) with the real answer pipeline over the
session's seeded Chroma store; Slack is tests/fakes/slack_server.py. Each test uses its own
channel so late posts from another test cannot be mistaken for its own.
"""

from __future__ import annotations

import contextlib
import json
import socket
import sqlite3
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.pipeline import build_pipeline
from bot.server import EVENTS_PATH
from bot.settings import Settings
from bot.slack_app import SlackBot
from bot.state import State
from tests.fakes.bot_server import blocks_text, mention, posts, running, settle, wait_posts
from tests.fakes.openai_server import FakeOpenAI, Reply
from tests.fakes.slack_server import (
    BOT_ID,
    BOT_USER_ID,
    TEST_SIGNING_SECRET,
    Call,
    FakeSlack,
    deliver,
    event_body,
    form_body,
)

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "Which jobs are most exposed to disruption by LLMs?"
JOBS_DOC = "003_0c1c93809ca1b7a8.txt"


def _settings(slack: FakeSlack, data_dir: Path, **env: str) -> Settings:
    base = {
        "SLACK_BOT_TOKEN": "xoxb-test-0000",
        "SLACK_SIGNING_SECRET": TEST_SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url,
        "CAREERBOT_DATA_DIR": str(data_dir),
        "CAREERBOT_RATE_LIMIT_PER_MINUTE": "1000",
    }
    return Settings.from_env({**base, **env}, dotenv=False)


@pytest.fixture(scope="module")
def pipeline(kb: Any, slack: FakeSlack, data_dir: Path) -> Any:
    """The real offline (extractive) pipeline over the session's seeded store, warmed once."""
    p = build_pipeline(_settings(slack, data_dir), kb=kb)
    kb.search("warm up", k=1)
    return p


@pytest.fixture(scope="module")
def served(slack: FakeSlack, pipeline: Any, data_dir: Path) -> Iterator[tuple[SlackBot, str]]:
    with running(_settings(slack, data_dir), pipeline) as pair:
        yield pair


def dm(channel: str, text: str, ts: str, **extra: Any) -> dict:
    return {"type": "message", "channel_type": "im", "user": "U0ASKER1", "text": text, "ts": ts,
            "channel": channel, **extra}


def events_url(base: str) -> str:
    return base + EVENTS_PATH


# -- answering ----------------------------------------------------------------------------------------------
def test_mention_gets_one_threaded_reply_citing_the_jobs_document(served: Any, slack: FakeSlack) -> None:
    _, base = served
    r = deliver(events_url(base), event_body(mention("C0MENTION", f"<@{BOT_USER_ID}> {QUESTION}", "1700.0001"), "Ev01"))
    assert r.status == 200 and r.seconds < 3
    [reply] = wait_posts(slack, "C0MENTION")
    assert reply.params["thread_ts"] == "1700.0001"
    assert JOBS_DOC in blocks_text(reply)
    kinds = [b["type"] for b in reply.params["blocks"]]
    assert kinds[0] == "section" and kinds[-1] == "actions"
    assert {e["action_id"] for e in reply.params["blocks"][-1]["elements"]} == {"feedback_up", "feedback_down"}
    assert "Sources" in reply.params["text"] and "[1]" in reply.params["text"]
    # the progress reaction came before the answer and was taken away after it
    added = [c for c in slack.calls("reactions.add") if c.params.get("channel") == "C0MENTION"]
    removed = [c for c in slack.calls("reactions.remove") if c.params.get("channel") == "C0MENTION"]
    assert added and added[0].params["timestamp"] == "1700.0001" and added[0].at <= reply.at
    assert removed and removed[0].at >= reply.at


def test_direct_message_is_answered_in_the_dm(served: Any, slack: FakeSlack) -> None:
    _, base = served
    r = deliver(events_url(base), event_body(dm("D0DIRECT", "What skills does a machine learning engineer need?",
                                                "1700.0101"), "Ev02"))
    assert r.status == 200
    [reply] = wait_posts(slack, "D0DIRECT")
    assert "thread_ts" not in reply.params
    assert ".txt" in blocks_text(reply)


def test_follow_up_in_a_thread_reads_the_thread(served: Any, slack: FakeSlack) -> None:
    _, base = served
    slack.set_thread("C0THREAD", "1700.0200", [
        {"user": "U0ASKER1", "ts": "1700.0200", "text": f"<@{BOT_USER_ID}> {QUESTION}"},
        {"user": BOT_USER_ID, "bot_id": BOT_ID, "ts": "1700.0201", "text": "Customer service, translators [1]"},
        {"user": "U0ASKER1", "ts": "1700.0202", "text": f"<@{BOT_USER_ID}> and what about translators?"},
    ])
    ev = mention("C0THREAD", f"<@{BOT_USER_ID}> and what about translators?", "1700.0202", thread_ts="1700.0200")
    assert deliver(events_url(base), event_body(ev, "Ev03")).status == 200
    [reply] = wait_posts(slack, "C0THREAD")
    assert reply.params["thread_ts"] == "1700.0200"
    [replies] = [c for c in slack.calls("conversations.replies") if c.params.get("channel") == "C0THREAD"]
    assert replies.params["ts"] == "1700.0200"
    assert JOBS_DOC in blocks_text(reply)


def test_a_retried_delivery_is_answered_once(served: Any, slack: FakeSlack) -> None:
    _, base = served
    body = event_body(mention("C0RETRY", f"<@{BOT_USER_ID}> {QUESTION}", "1700.0301"), "Ev04")
    first = deliver(events_url(base), body)
    again = deliver(events_url(base), body, retry_num=1)
    third = deliver(events_url(base), body, retry_num=2)
    assert (first.status, again.status, third.status) == (200, 200, 200)
    assert len(wait_posts(slack, "C0RETRY")) == 1


def test_empty_mention_gets_a_helpful_reply(served: Any, slack: FakeSlack) -> None:
    _, base = served
    deliver(events_url(base), event_body(mention("C0EMPTY", f"<@{BOT_USER_ID}>", "1700.0401"), "Ev05"))
    [reply] = wait_posts(slack, "C0EMPTY")
    assert reply.params["thread_ts"] == "1700.0401"
    assert "career question" in reply.params["text"]


@pytest.mark.parametrize("event", [
    dm("D0IGNORE", "I am the bot", "1700.0501", user=BOT_USER_ID),
    dm("D0IGNORE", "another bot", "1700.0502", bot_id="B0OTHER1", subtype="bot_message"),
    dm("D0IGNORE", "edited", "1700.0503", subtype="message_changed"),
    dm("D0IGNORE", "", "1700.0504", subtype="message_deleted"),
    {"type": "message", "channel_type": "channel", "user": "U0ASKER1", "text": QUESTION, "ts": "1700.0505",
     "channel": "D0IGNORE"},
], ids=["own", "other-bot", "edit", "delete", "channel-message"])
def test_bots_edits_and_non_dm_messages_are_ignored(served: Any, slack: FakeSlack, event: dict) -> None:
    bot, base = served
    r = deliver(events_url(base), event_body(event, f"EvIgnore{event['ts']}"))
    assert r.status == 200
    settle(bot)
    assert posts(slack, "D0IGNORE") == []
    assert [c for c in slack.calls("reactions.add") if c.params.get("channel") == "D0IGNORE"] == []


def test_output_cannot_ping_the_channel(served: Any, slack: FakeSlack) -> None:
    _, base = served
    text = f"<@{BOT_USER_ID}> <!channel> @here {QUESTION} <@U0VICTIM>"
    deliver(events_url(base), event_body(mention("C0PING", text, "1700.0601"), "Ev06"))
    [reply] = wait_posts(slack, "C0PING")
    everything = reply.params["text"] + blocks_text(reply)
    for ping in ("<!channel>", "<!here>", "<!everyone>", "<@U0VICTIM>", "@here", "@channel"):
        assert ping not in everything


# -- security -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("how", ["bad", "missing", "stale", "wrong-secret"])
def test_unsigned_or_stale_requests_are_rejected(served: Any, slack: FakeSlack, how: str) -> None:
    bot, base = served
    body = event_body(mention("C0SIG", f"<@{BOT_USER_ID}> {QUESTION}", "1700.0701"), f"EvSig{how}")
    variants: dict[str, dict[str, Any]] = {
        "bad": {"signature": "v0=" + "0" * 64},
        "missing": {"secret": None},
        "stale": {"timestamp": int(time.time()) - 6 * 60},
        "wrong-secret": {"secret": "not-the-secret"},
    }
    kwargs = variants[how]
    r = deliver(events_url(base), body, **kwargs)
    assert r.status == 401
    settle(bot)
    assert posts(slack, "C0SIG") == []


def test_an_acknowledged_event_is_already_recorded(slack: FakeSlack, pipeline: Any, tmp_path: Path) -> None:
    """The ack comes after the job is in the database: a replica dying right after it loses nothing."""
    journal = tmp_path / "careerbot.intake.sqlite3"  # on SQLite the front door commits here first (bot/intake.py)

    def journaled() -> int:
        with sqlite3.connect(journal) as db:
            return int(db.execute("SELECT COUNT(*) FROM intake").fetchone()[0])

    with running(_settings(slack, tmp_path), pipeline, workers=0) as (bot, base):  # nobody answers here
        for i in range(5):
            body = event_body(mention("C0DURABLE", f"<@{BOT_USER_ID}> {QUESTION}", f"1700.30{i:02d}"), f"EvDur{i}")
            assert deliver(events_url(base), body).status == 200
            # journal first, then the queue: a job the mover hands over in between is counted twice, never missed
            in_journal = journaled()
            assert in_journal + bot.state.counts().get("queued", 0) >= i + 1
        assert deliver(events_url(base), body, retry_num=1).status == 200  # a retry: claimed already
        deadline = time.monotonic() + 10
        while journaled():  # the journal is handed to the queue, where the claim drops the retry
            assert time.monotonic() < deadline
            time.sleep(0.02)
        assert bot.state.counts() == {"queued": 5}


# -- feedback -----------------------------------------------------------------------------------------------
def test_feedback_click_is_stored_and_acknowledged(served: Any, slack: FakeSlack, data_dir: Path) -> None:
    _, base = served
    deliver(events_url(base), event_body(mention("C0VOTE", f"<@{BOT_USER_ID}> {QUESTION}", "1700.0801"), "Ev08"))
    [reply] = wait_posts(slack, "C0VOTE")
    up = next(e for e in reply.params["blocks"][-1]["elements"] if e["action_id"] == "feedback_up")
    payload = {
        "type": "block_actions", "team": {"id": "T0TEST001"}, "user": {"id": "U0VOTER1"},
        "api_app_id": "A0TEST001", "trigger_id": "1.2.3", "container": {"type": "message", "channel_id": "C0VOTE"},
        "channel": {"id": "C0VOTE"}, "response_url": slack.response_url("vote"),
        "message": {"ts": "1700000001.000001", "thread_ts": "1700.0801"},
        "actions": [{"action_id": "feedback_up", "block_id": "feedback", "value": up["value"], "type": "button"}],
    }
    r = deliver(events_url(base), form_body({"payload": json.dumps(payload)}),
                content_type="application/x-www-form-urlencoded")
    assert r.status == 200
    [thanks] = [c for c in slack.wait_for("chat.postEphemeral") if c.params.get("channel") == "C0VOTE"]
    assert thanks.params["user"] == "U0VOTER1" and "Thanks" in thanks.params["text"]
    state = State.open(f"sqlite:///{data_dir.resolve() / 'careerbot.sqlite3'}")
    rows = [v for v in state.votes() if v.user == "U0VOTER1"]
    assert len(rows) == 1
    assert (rows[0].user, rows[0].question, rows[0].vote) == ("U0VOTER1", QUESTION, "up")
    assert rows[0].answer and abs(rows[0].created - time.time()) < 60
    stored = state.answer(up["value"]) or {}
    assert stored["message_ts"] and stored["channel_type"] == "channel"  # joined to the posted message
    assert stored["sources"] and all(s["source"] for s in stored["sources"])


# -- Slack trouble ------------------------------------------------------------------------------------------
def test_rate_limited_post_is_retried_after_retry_after(served: Any, slack: FakeSlack) -> None:
    _, base = served
    slack.fail("chat.postMessage", status=429, retry_after=1)
    deliver(events_url(base), event_body(mention("C0RATE", f"<@{BOT_USER_ID}> {QUESTION}", "1700.0901"), "Ev09"))
    [reply] = wait_posts(slack, "C0RATE")
    [refused] = [c for c in slack.calls("chat.postMessage") if c.params.get("_failed")
                 and c.params.get("channel") == "C0RATE"]
    assert reply.at - refused.at >= 1.0
    assert JOBS_DOC in blocks_text(reply)


def test_server_error_from_slack_is_retried_once_posted(served: Any, slack: FakeSlack) -> None:
    _, base = served
    slack.fail("chat.postMessage", status=503)
    deliver(events_url(base), event_body(mention("C0FIVE", f"<@{BOT_USER_ID}> {QUESTION}", "1700.0951"), "Ev095"))
    [reply] = wait_posts(slack, "C0FIVE")
    assert len([c for c in slack.calls("chat.postMessage") if c.params.get("channel") == "C0FIVE"]) == 2
    assert JOBS_DOC in blocks_text(reply)


def test_not_in_channel_is_survived(served: Any, slack: FakeSlack) -> None:
    bot, base = served
    slack.fail("chat.postMessage", error="not_in_channel")
    deliver(events_url(base), event_body(mention("C0NOTIN", f"<@{BOT_USER_ID}> {QUESTION}", "1700.1001"), "Ev10"))
    slack.wait_for("reactions.remove")
    settle(bot)
    assert posts(slack, "C0NOTIN") == []  # nowhere to post; no retry storm
    # still serving
    deliver(events_url(base), event_body(mention("C0AFTER", f"<@{BOT_USER_ID}> {QUESTION}", "1700.1002"), "Ev11"))
    assert len(wait_posts(slack, "C0AFTER")) == 1


@pytest.mark.parametrize("down", ["http-500", "closed-port"])
def test_llm_down_still_posts_the_offline_answer(slack: FakeSlack, kb: Any, tmp_path: Path, down: str) -> None:
    with contextlib.ExitStack() as stack:
        if down == "http-500":
            llm = stack.enter_context(FakeOpenAI(default=Reply.error(500)))
            url = llm.url
        else:
            with socket.socket() as s:  # a port nobody listens on
                s.bind(("127.0.0.1", 0))
                url = f"http://127.0.0.1:{s.getsockname()[1]}/v1"
        settings = _settings(slack, tmp_path, OPENAI_API_KEY="sk-test-0000", OPENAI_BASE_URL=url,
                             CAREERBOT_LLM_TIMEOUT="1", CAREERBOT_LLM_TOTAL_TIMEOUT="1.5")
        channel = f"C0NOLLM{down[:2].upper()}"
        with running(settings, build_pipeline(settings, kb=kb)) as (_, base):
            deliver(events_url(base), event_body(mention(channel, f"<@{BOT_USER_ID}> {QUESTION}", "1700.1101"),
                                                 f"Ev12{down}"))
            [reply] = wait_posts(slack, channel, timeout=40)
        if down == "http-500":
            assert llm.chat_requests()  # the LLM was really tried
    assert JOBS_DOC in blocks_text(reply)
    assert "couldn't answer" not in reply.params["text"]


def test_url_verification_challenge_is_echoed(served: Any) -> None:
    _, base = served
    r = deliver(events_url(base), json.dumps({"type": "url_verification", "challenge": "chal-123", "token": "x"})
                .encode())
    assert r.status == 200 and b"chal-123" in r.body


def test_per_user_rate_limit_is_answered_politely(slack: FakeSlack, pipeline: Any, tmp_path: Path) -> None:
    settings = _settings(slack, tmp_path, CAREERBOT_RATE_LIMIT_PER_MINUTE="1")
    with running(settings, pipeline) as (_, base):
        deliver(events_url(base), event_body(mention("C0LIMIT", f"<@{BOT_USER_ID}> {QUESTION}", "1700.1201"), "Ev13"))
        deliver(events_url(base), event_body(mention("C0LIMIT", f"<@{BOT_USER_ID}> again?", "1700.1202"), "Ev14"))
        replies = wait_posts(slack, "C0LIMIT", 2)
    by_thread = {c.params["thread_ts"]: c for c in replies}
    assert JOBS_DOC in blocks_text(by_thread["1700.1201"])
    assert "a minute" in by_thread["1700.1202"].params["text"]


# -- load ---------------------------------------------------------------------------------------------------
def test_200_simultaneous_events_are_all_acked_fast_and_answered_once(served: Any, slack: FakeSlack) -> None:
    _, base = served
    # every 10th is a real question, so the pipeline is busy on the CPU while the other acks are timed;
    # the rest are bare mentions (a help reply) to keep the test short
    n = 200
    bodies = [event_body(mention("C0LOAD", f"<@{BOT_USER_ID}> {QUESTION if i % 10 == 0 else ''}", f"1800.{i:04d}",
                                 user=f"U0LOAD{i:03d}"), f"EvLoad{i}") for i in range(n)]
    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(lambda b: deliver(events_url(base), b), bodies))
    assert all(r.status == 200 for r in results)
    slowest = max(r.seconds for r in results)
    assert slowest < 3.0, f"slowest ack {slowest:.2f} s"
    replies = wait_posts(slack, "C0LOAD", n, timeout=60)
    assert sorted(c.params["thread_ts"] for c in replies) == sorted(f"1800.{i:04d}" for i in range(n))
    answered = [c for c in replies if JOBS_DOC in blocks_text(c)]
    assert len(answered) == n // 10


# -- slash commands -------------------------------------------------------------------------------------------
def _command(slack: FakeSlack, name: str, text: str, hook: str) -> bytes:
    return form_body({"command": name, "text": text, "user_id": "U0ROLES1", "channel_id": "C0ROLES",
                      "team_id": "T0TEST001", "response_url": slack.response_url(hook), "trigger_id": "1.2.3",
                      "api_app_id": "A0TEST001"})


def _hook_posts(slack: FakeSlack, hook: str, count: int = 1) -> list[Call]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = [c for c in slack.calls("response_url") if c.path.endswith("/" + hook)]
        if len(found) >= count:
            return found
        time.sleep(0.05)
    raise AssertionError(f"no response_url post to {hook}")


def test_role_command_is_private_and_can_be_shared(served: Any, slack: FakeSlack) -> None:
    _, base = served
    r = deliver(events_url(base), _command(slack, "/career-role", "machine learning engineer", "role1"),
                content_type="application/x-www-form-urlencoded")
    assert r.status == 200 and r.seconds < 3
    [reply] = _hook_posts(slack, "role1")
    assert reply.params["response_type"] == "ephemeral"
    share = reply.params["blocks"][-1]
    assert share["type"] == "actions" and share["elements"][0]["action_id"] == "share_role"
    assert "machine learning engineer" in json.dumps(reply.params["blocks"][0]).lower()

    payload = {
        "type": "block_actions", "team": {"id": "T0TEST001"}, "user": {"id": "U0ROLES1"}, "api_app_id": "A0TEST001",
        "container": {"type": "message", "channel_id": "C0ROLES", "is_ephemeral": True},
        "channel": {"id": "C0ROLES"}, "response_url": slack.response_url("share1"), "trigger_id": "1.2.3",
        "actions": [{"action_id": "share_role", "block_id": "share", "value": share["elements"][0]["value"],
                     "type": "button"}],
    }
    deliver(events_url(base), form_body({"payload": json.dumps(payload)}),
            content_type="application/x-www-form-urlencoded")
    [shared] = wait_posts(slack, "C0ROLES")
    assert ".txt" in blocks_text(shared)
    [done] = _hook_posts(slack, "share1")
    assert done.params.get("delete_original") is True


def test_roles_command_lists_the_catalog(served: Any, slack: FakeSlack) -> None:
    _, base = served
    deliver(events_url(base), _command(slack, "/career-roles", "", "roles1"),
            content_type="application/x-www-form-urlencoded")
    [reply] = _hook_posts(slack, "roles1")
    assert reply.params["response_type"] == "ephemeral"
    assert reply.params["blocks"] and "engineer" in json.dumps(reply.params["blocks"]).lower()


# -- health -------------------------------------------------------------------------------------------------
def test_healthz_reports_store_embedder_and_llm_without_secrets(served: Any) -> None:
    bot, base = served
    t0 = time.perf_counter()
    with urllib.request.urlopen(base + "/healthz", timeout=5) as resp:
        status, raw = resp.status, resp.read().decode()
    assert time.perf_counter() - t0 < 2
    data = json.loads(raw)
    assert status == 200 and data["status"] == "ok"
    assert data["store"]["ok"] is True and data["store"]["chunks"] > 0
    assert data["embedder"] == bot.pipeline.kb.embedder.id
    assert data["llm"]["configured"] is False
    for secret in ("xoxb-test-0000", TEST_SIGNING_SECRET):
        assert secret not in raw


# -- manifest -------------------------------------------------------------------------------------------------
def test_manifest_matches_the_listeners(served: Any) -> None:
    bot, _ = served
    manifest = yaml.safe_load((ROOT / "deploy" / "slack-app-manifest.yaml").read_text())
    settings = manifest["settings"]
    registered = bot.registered()
    assert sorted(settings["event_subscriptions"]["bot_events"]) == sorted(registered["events"])
    assert sorted(c["command"] for c in manifest["features"]["slash_commands"]) == sorted(registered["commands"])
    assert settings["interactivity"]["is_enabled"] is bool(registered["actions"])
    urls = [settings["event_subscriptions"]["request_url"], settings["interactivity"]["request_url"]]
    urls += [c["url"] for c in manifest["features"]["slash_commands"]]
    assert all(u.endswith(EVENTS_PATH) for u in urls)
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    needed = {"app_mentions:read", "chat:write", "commands", "im:history", "reactions:write", "channels:history",
              "groups:history", "users:read"}
    assert needed <= scopes
    # the AI app surface: an assistant view to open, the Home tab its listener publishes, and their scope
    events = set(registered["events"])
    if events & {"assistant_thread_started", "assistant_thread_context_changed"}:
        assert manifest["features"]["assistant_view"]["assistant_description"]
        assert "assistant:write" in scopes and "message.im" in events
    assert manifest["features"]["app_home"]["home_tab_enabled"] is ("app_home_opened" in events)
    assert manifest["features"]["bot_user"]["display_name"]
