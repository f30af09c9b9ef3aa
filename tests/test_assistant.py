"""Slack's AI app surface end to end, offline: the assistant pane, streamed LLM answers and the Home tab.

Signed requests go to the real HTTP server (tests/fakes/bot_server.py); what the bot does in Slack is
read from the fake Slack Web API's record of calls; in LLM mode the model is the fake OpenAI-compatible
server streaming server-sent events. Each test uses its own DM channel, so calls never mix.
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from slack_sdk import WebClient

from bot import prompts
from bot.assistant import DocumentFact, KnowledgeFacts, KnowledgeView, RoleFact
from bot.pipeline import build_pipeline
from bot.role_service import RoleService
from bot.server import EVENTS_PATH
from bot.settings import Settings
from bot.state import Job
from knowledge.base import KnowledgeBase
from tests.fakes.bot_server import BotProcess, make_settings, running, settings_env
from tests.fakes.openai_server import FakeOpenAI, Reply
from tests.fakes.slack_server import BOT_USER_ID, TEST_SIGNING_SECRET, Call, FakeSlack, deliver, event_body
from tests.test_llm import customer_service_reply

ASKER = "U0ASKER1"
ADMIN = "U0ADMIN01"
OPENAI_KEY = "sk-test-assistant-0000000000"
QUESTION = "Will AI chatbots replace customer service representatives?"


@pytest.fixture(scope="module")
def served(kb: KnowledgeBase, slack: FakeSlack, data_dir: Path) -> Iterator[tuple[Any, str]]:
    """The offline bot (no OPENAI_API_KEY) over the seeded store, one admin configured."""
    settings = make_settings(slack, data_dir, CAREERBOT_ADMINS=ADMIN)
    pipeline = build_pipeline(settings, kb=kb)
    kb.search("warm up", k=1)
    with running(settings, pipeline) as pair:
        yield pair


@pytest.fixture(scope="module")
def model() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


@pytest.fixture(scope="module")
def served_llm(kb: KnowledgeBase, slack: FakeSlack, model: FakeOpenAI,
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, str]]:
    """The bot in LLM mode against the fake model server."""
    settings = make_settings(slack, tmp_path_factory.mktemp("assistant_llm"), OPENAI_API_KEY=OPENAI_KEY,
                             OPENAI_BASE_URL=model.url, CAREERBOT_LLM_TIMEOUT="20", CAREERBOT_LLM_TOTAL_TIMEOUT="30")
    pipeline = build_pipeline(settings, kb=kb)
    with running(settings, pipeline) as pair:
        yield pair


def send(base: str, event: dict[str, Any], event_id: str) -> None:
    r = deliver(base + EVENTS_PATH, event_body(event, event_id))
    assert r.status == 200, r.body


def thread_started(channel: str, thread_ts: str, *, user: str = ASKER, looking_at: str = "C0GENERAL") -> dict:
    return {"type": "assistant_thread_started", "event_ts": thread_ts,
            "assistant_thread": {"user_id": user, "channel_id": channel, "thread_ts": thread_ts,
                                 "context": {"channel_id": looking_at, "team_id": "T0TEST001"}}}


def user_message(channel: str, thread_ts: str, text: str, ts: str, *, user: str = ASKER) -> dict:
    return {"type": "message", "channel_type": "im", "channel": channel, "user": user, "text": text, "ts": ts,
            "thread_ts": thread_ts, "event_ts": ts}


def final_answers(slack: FakeSlack, channel: str) -> list[Call]:
    """Messages in ``channel`` that carry an answer's Sources block (a post, or the update that finished a stream)."""
    return [c for c in slack.calls_in(channel, "chat.postMessage", "chat.update")
            if "*Sources*" in json.dumps(c.params.get("blocks") or [])]


def wait_final(slack: FakeSlack, channel: str, timeout: float = 60) -> Call:
    slack.wait_until(lambda _: bool(final_answers(slack, channel)), timeout)
    return final_answers(slack, channel)[0]


def catalog_names(kb: KnowledgeBase, settings: Any) -> list[str]:
    return [e.name for e in RoleService(kb, settings).entries()]


# -- the assistant pane ---------------------------------------------------------------------------------------
def test_thread_started_greets_and_suggests_prompts_naming_roles_of_the_corpus(
    served: Any, slack: FakeSlack, kb: KnowledgeBase
) -> None:
    bot, base = served
    send(base, thread_started("D0GREET", "1800.0001"), "EvA01")
    [prompts_call] = slack.wait_for("assistant.threads.setSuggestedPrompts")
    assert prompts_call.params["channel_id"] == "D0GREET" and prompts_call.params["thread_ts"] == "1800.0001"
    suggested = prompts_call.params["prompts"]
    assert 3 <= len(suggested) <= 4
    assert all(p["title"] and p["message"] for p in suggested)
    names = catalog_names(kb, bot.settings)
    named = [n for n in names if any(n in p["message"] for p in suggested)]
    assert len(named) >= 2, (names, suggested)  # roles the ingested documents speak about
    [greeting] = slack.calls_in("D0GREET", "chat.postMessage")
    assert greeting.params["thread_ts"] == "1800.0001"
    docs = len(kb.sources())
    assert f"{docs} documents" in greeting.params["text"]
    # the context (the channel the user was looking at) is kept with the thread, for any replica to read
    assert bot.contexts.find(channel_id="D0GREET", thread_ts="1800.0001")["channel_id"] == "C0GENERAL"


def test_a_chinese_speaking_user_is_greeted_in_chinese(served: Any, slack: FakeSlack) -> None:
    _, base = served
    slack.set_user("U0ZHUSER1", "小王", locale="zh-CN")
    send(base, thread_started("D0ZHGREET", "1800.0101", user="U0ZHUSER1"), "EvA02")
    slack.wait_until(lambda _: bool(slack.calls_in("D0ZHGREET", "assistant.threads.setSuggestedPrompts")))
    [greeting] = slack.calls_in("D0ZHGREET", "chat.postMessage")
    assert "你好" in greeting.params["text"]
    [call] = slack.calls_in("D0ZHGREET", "assistant.threads.setSuggestedPrompts")
    assert any(any("\u4e00" <= ch <= "\u9fff" for ch in p["message"]) for p in call.params["prompts"])


def test_a_question_shows_status_then_one_cited_answer_in_the_thread(served: Any, slack: FakeSlack) -> None:
    _, base = served
    send(base, user_message("D0ASK", "1800.0200", QUESTION, "1800.0201"), "EvA03")
    answer = wait_final(slack, "D0ASK")
    [status] = slack.calls_in("D0ASK", "assistant.threads.setStatus")
    assert status.params["status"] == prompts.STATUS_READING["en"] and status.params["thread_ts"] == "1800.0200"
    assert status.at <= answer.at
    [title] = slack.calls_in("D0ASK", "assistant.threads.setTitle")
    assert title.params["title"] == QUESTION  # short enough to stay whole
    posts = slack.calls_in("D0ASK", "chat.postMessage")
    assert posts == [answer]  # exactly one message: the answer (offline answers post at once, no stream)
    assert answer.params["thread_ts"] == "1800.0200"
    blocks = json.dumps(answer.params["blocks"])
    assert ".txt" in blocks and "feedback_up" in blocks and "[1]" in answer.params["text"]
    assert not slack.calls_in("D0ASK", "chat.startStream", "chat.update", "reactions.add")


def test_a_follow_up_reads_the_thread_and_keeps_the_title(served: Any, slack: FakeSlack) -> None:
    _, base = served
    slack.set_thread("D0FOLLOW", "1800.0300", [
        {"user": BOT_USER_ID, "bot_id": "BBOT0001", "ts": "1800.0300", "text": "Hi! Ask me anything"},
        {"user": ASKER, "ts": "1800.0301", "text": QUESTION},
        {"user": BOT_USER_ID, "bot_id": "BBOT0001", "ts": "1800.0302", "text": "Customer service roles [1]"},
        {"user": ASKER, "ts": "1800.0303", "text": "and what about translators?"},
    ])
    send(base, user_message("D0FOLLOW", "1800.0300", "and what about translators?", "1800.0303"), "EvA04")
    answer = wait_final(slack, "D0FOLLOW")
    assert slack.calls_in("D0FOLLOW", "conversations.replies")
    assert not slack.calls_in("D0FOLLOW", "assistant.threads.setTitle")  # the first question named the thread
    assert "003_0c1c93809ca1b7a8.txt" in json.dumps(answer.params["blocks"])


def test_the_channel_in_view_is_read_only_when_the_question_is_about_it(served: Any, slack: FakeSlack) -> None:
    _, base = served
    slack.set_history("C0WATCHED", [{"user": "U0OTHER01", "ts": "1.2", "text": "Is prompt engineering still a job?"}])
    send(base, thread_started("D0CTX", "1800.0400", looking_at="C0ELSEWHERE"), "EvA05")
    changed = {"type": "assistant_thread_context_changed", "event_ts": "1800.0401",
               "assistant_thread": {"user_id": ASKER, "channel_id": "D0CTX", "thread_ts": "1800.0400",
                                    "context": {"channel_id": "C0WATCHED", "team_id": "T0TEST001"}}}
    send(base, changed, "EvA06")
    slack.wait_until(lambda _: any("C0WATCHED" in json.dumps(c.params.get("metadata") or {})
                                   for c in slack.calls_in("D0CTX", "chat.update")), 60)  # kept on the greeting
    send(base, user_message("D0CTX", "1800.0400", QUESTION, "1800.0402"), "EvA07")
    wait_final(slack, "D0CTX")
    assert not [c for c in slack.calls("conversations.history") if c.params.get("channel") == "C0WATCHED"]
    send(base, user_message("D0CTX", "1800.0400", "What skills does the question in this channel need?",
                            "1800.0403"), "EvA08")
    slack.wait_until(lambda _: len(slack.calls_in("D0CTX", "chat.postMessage")) >= 3, 60)  # greeting + 2 replies
    [history] = [c for c in slack.calls("conversations.history") if c.params.get("channel") == "C0WATCHED"]
    assert history.params["channel"] == "C0WATCHED"


# -- streaming in LLM mode ---------------------------------------------------------------------------------------
def _pieces(request: dict[str, Any]) -> list[str]:
    text = customer_service_reply(request).body["choices"][0]["message"]["content"]
    words = text.split(" ")
    return [w + (" " if i < len(words) - 1 else "") for i, w in enumerate(words)]


def test_llm_answer_streams_then_ends_as_the_verified_text_with_sources(
    served_llm: Any, slack: FakeSlack, model: FakeOpenAI
) -> None:
    _, base = served_llm
    release = threading.Event()
    model.default = lambda request: Reply.stream(_pieces(request), hold=release, hold_after=3)
    try:
        send(base, user_message("D0STREAM", "1800.0500", QUESTION, "1800.0501"), "EvA09")
        # The first words reach Slack while the model is still held mid-reply.
        [start] = slack.wait_until(lambda _: bool(slack.calls_in("D0STREAM", "chat.startStream")), 60) and \
            slack.calls_in("D0STREAM", "chat.startStream")
        assert start.params["markdown_text"].startswith("LLMs")
        # and what the model wrote before it paused follows without waiting for its next words
        slack.wait_until(lambda _: "increasingly" in "".join(
            c.params.get("markdown_text", "") for c in slack.calls_in("D0STREAM", "chat.appendStream")), 30)
        assert not final_answers(slack, "D0STREAM")
    finally:
        release.set()
    answer = wait_final(slack, "D0STREAM")
    [stop] = slack.calls_in("D0STREAM", "chat.stopStream")
    assert answer.method == "chat.update" and answer.params["ts"] == stop.params["ts"] and stop.at <= answer.at
    streamed = "".join(c.params.get("markdown_text", "") for c in slack.calls_in(
        "D0STREAM", "chat.startStream", "chat.appendStream", "chat.stopStream"))
    assert streamed.startswith("LLMs are increasingly deployed in customer service")
    assert "customer service" in answer.params["text"] and "[1]" in answer.params["text"]
    assert "003_0c1c93809ca1b7a8.txt" in json.dumps(answer.params["blocks"])
    assert not slack.calls_in("D0STREAM", "chat.postMessage")  # one message: the stream, finished in place
    [status] = slack.calls_in("D0STREAM", "assistant.threads.setStatus")
    assert status.at <= start.at


def test_without_chat_streaming_the_answer_is_a_message_that_is_updated(
    served_llm: Any, slack: FakeSlack, model: FakeOpenAI
) -> None:
    _, base = served_llm
    model.default = lambda request: Reply.stream(_pieces(request))
    slack.fail("chat.startStream", error="unknown_method")
    send(base, user_message("D0NOSTREAM", "1800.0600", QUESTION, "1800.0601"), "EvA10")
    answer = wait_final(slack, "D0NOSTREAM")
    [placeholder] = slack.calls_in("D0NOSTREAM", "chat.postMessage")
    assert placeholder.params["text"] == "LLMs …" and placeholder.at <= answer.at
    assert answer.method == "chat.update"
    assert "003_0c1c93809ca1b7a8.txt" in json.dumps(answer.params["blocks"])


def test_when_the_streamed_message_cannot_be_replaced_the_answer_is_posted_and_the_draft_removed(
    served_llm: Any, slack: FakeSlack, model: FakeOpenAI
) -> None:
    _, base = served_llm
    model.default = lambda request: Reply.stream(_pieces(request))
    slack.fail("chat.update", error="message_not_found")
    send(base, user_message("D0NOUPDATE", "1800.0800", QUESTION, "1800.0801"), "EvA14")
    answer = wait_final(slack, "D0NOUPDATE")
    assert answer.method == "chat.postMessage" and answer.params["thread_ts"] == "1800.0800"
    [stop] = slack.calls_in("D0NOUPDATE", "chat.stopStream")
    [deleted] = slack.calls_in("D0NOUPDATE", "chat.delete")
    assert deleted.params["ts"] == stop.params["ts"]  # the unverified draft does not stay beside the answer


def test_a_stream_cut_midway_ends_as_the_offline_answer_with_a_note(
    served_llm: Any, slack: FakeSlack, model: FakeOpenAI
) -> None:
    _, base = served_llm
    model.default = lambda request: Reply.stream(_pieces(request), cut_after=4)
    send(base, user_message("D0CUT", "1800.0700", QUESTION, "1800.0701"), "EvA11")
    answer = wait_final(slack, "D0CUT")
    assert slack.calls_in("D0CUT", "chat.startStream")  # the start of the model's reply was shown ...
    blocks = json.dumps(answer.params["blocks"], ensure_ascii=False)
    assert prompts.STREAM_BROKE_NOTE["en"] in blocks  # ... and replaced by the whole offline answer, with a note
    assert answer.method == "chat.update" and "[1]" in answer.params["text"]
    assert not slack.calls_in("D0CUT", "chat.postMessage")


# -- the Home tab -----------------------------------------------------------------------------------------------
def _published(slack: FakeSlack, user: str) -> dict[str, Any]:
    slack.wait_until(lambda calls: any(c.method == "views.publish" and c.params.get("user_id") == user
                                       for c in calls))
    [call] = [c for c in slack.calls("views.publish") if c.params.get("user_id") == user]
    return dict(call.params["view"])


def test_home_tab_differs_for_admins_and_shows_no_secret(served: Any, slack: FakeSlack, kb: KnowledgeBase) -> None:
    bot, base = served
    answer_id = bot.state.record_answer(user=ASKER, channel="D0X", question="Which jobs are at risk?",
                                        answer="Some [1]", mode="extractive", refused=False,
                                        sources=[{"n": 1, "source": "003_0c1c93809ca1b7a8.txt", "title": "Jobs"}])
    bot.state.record_vote(answer_id, ASKER, "down")
    send(base, {"type": "app_home_opened", "user": ASKER, "channel": "D0HOME1", "tab": "home", "event_ts": "1.1"},
         "EvA12")
    send(base, {"type": "app_home_opened", "user": ADMIN, "channel": "D0HOME2", "tab": "home", "event_ts": "1.2"},
         "EvA13")
    member, admin = _published(slack, ASKER), _published(slack, ADMIN)
    assert member["type"] == admin["type"] == "home"
    member_text, admin_text = json.dumps(member, ensure_ascii=False), json.dumps(admin, ensure_ascii=False)
    for source in kb.sources():  # what the bot knows: every document, in both views
        assert source in member_text and source in admin_text
    assert "/career-role" in member_text and "Assistant pane" in member_text and "Mention" in member_text
    names = catalog_names(kb, bot.settings)
    assert sum(n in member_text for n in names) >= len(names) // 2
    assert "Feedback" not in member_text and "Which jobs are at risk?" not in member_text
    assert "Feedback" in admin_text and "Which jobs are at risk?" in admin_text and "👎 1" in admin_text
    for secret in ("xoxb-test-0000", TEST_SIGNING_SECRET, OPENAI_KEY):
        assert secret not in member_text and secret not in admin_text


def test_suggested_prompts_follow_an_ingest(kb_copy: KnowledgeBase, tmp_path: Path) -> None:
    view = KnowledgeView(kb_copy, lambda: RoleService(kb_copy, Settings(data_dir=tmp_path / "data")))
    before = view.facts()
    assert view.facts() is before  # cached while the store is unchanged
    doc = tmp_path / "new" / "field_notes.md"
    doc.parent.mkdir()
    doc.write_text("# Field notes on hiring for data annotation teams\n\nHiring managers now ask data annotators "
                   "to review model output rather than label from scratch, and pay for domain knowledge.\n")
    kb_copy.ingest([doc.parent])
    after = view.facts()
    assert after.version != before.version
    assert len(after.documents) == len(before.documents) + 1
    assert "field_notes.md" in [d.source for d in after.documents]
    assert after.last_ingest is not None and after.last_ingest >= (before.last_ingest or 0)


# -- the bars, against the real `careerbot serve --http` process -----------------------------------------------
def test_serve_http_process_greets_answers_and_publishes_home(
    kb_data_dir: Path, kb: KnowledgeBase, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    shutil.copytree(kb_data_dir, data)
    with FakeSlack() as slack, BotProcess(settings_env(slack, data, CAREERBOT_ADMINS=ADMIN), tmp_path / "serve.log"
                                          ) as proc:
        send(proc.base, thread_started("D0PROC", "1900.0001"), "EvP01")
        [prompts_call] = slack.wait_for("assistant.threads.setSuggestedPrompts", timeout=60)
        names = catalog_names(kb, Settings(data_dir=tmp_path / "roles"))
        assert any(n in p["message"] for p in prompts_call.params["prompts"] for n in names)
        send(proc.base, user_message("D0PROC", "1900.0001", QUESTION, "1900.0002"), "EvP02")
        answer = wait_final(slack, "D0PROC")
        [status] = slack.calls_in("D0PROC", "assistant.threads.setStatus")
        assert status.at <= answer.at
        assert [c for c in slack.calls_in("D0PROC", "chat.postMessage") if c.params.get("thread_ts") == "1900.0001"
                and "*Sources*" in json.dumps(c.params.get("blocks") or [])] == [answer]
        send(proc.base, {"type": "app_home_opened", "user": ASKER, "channel": "D0PROCH", "tab": "home",
                    "event_ts": "1900.1"}, "EvP03")
        view = json.dumps(_published(slack, ASKER), ensure_ascii=False)
        assert all(source in view for source in kb.sources())
        assert "xoxb-test-0000" not in view and TEST_SIGNING_SECRET not in view
    assert proc.exit_code == 0


def test_suggested_prompts_come_from_whatever_the_catalog_holds() -> None:
    """Another team's corpus, other roles: the prompts name those roles and that corpus's central document."""
    facts = KnowledgeFacts("1", [DocumentFact("a.md", "Warehouse automation survey", None),
                                 DocumentFact("b.md", "Notes", None)],
                           [RoleFact("Forklift Operator", None, "at risk", ("a.md",)),
                            RoleFact("Robotics Technician", "机器人技术员", "growing", ("a.md", "b.md")),
                            RoleFact("Fleet Planner", None, "growing", ("a.md",))])
    en = [s.message for s in facts.starters("en")]
    assert len(en) == 4
    assert "Robotics Technician" in en[0] and "Forklift Operator" in en[1]
    assert any("Warehouse automation survey" in m for m in en)
    zh = [s.message for s in facts.starters("zh")]
    assert "机器人技术员" in zh[0]
    assert KnowledgeFacts("empty").starters("en") == []


def test_a_recovered_question_replaces_the_half_stream_a_dead_worker_left(served: Any, slack: FakeSlack) -> None:
    """A worker died mid-stream; the job's next attempt removes the untagged draft and answers once."""
    bot, _ = served
    question = user_message("D0DRAFT", "1800.0900", QUESTION, "1800.0901")
    draft = WebClient(token="xoxb-test-0000", base_url=slack.api_url).chat_startStream(
        channel="D0DRAFT", thread_ts="1800.0900", markdown_text="LLMs are incr")
    job = Job(id="job-draft-1", kind="assistant", payload={"event": question, "fields": {"channel_type": "im"}},
              attempts=2, created=time.time())
    reply_ts = bot.job_handlers()["assistant"](job)
    [deleted] = slack.calls_in("D0DRAFT", "chat.delete")
    assert deleted.params["ts"] == draft["ts"]
    [answer] = final_answers(slack, "D0DRAFT")
    assert answer.method == "chat.postMessage" and reply_ts and deleted.at <= answer.at
    assert answer.params["metadata"]["event_payload"]["job"] == "job-draft-1"
