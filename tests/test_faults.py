"""Fault injection, offline: the real HTTP server, a fake Slack, a fake LLM, a real Chroma server.

For every fault the same four promises are checked: the asker gets a visible reply (an answer,
the offline fallback or a short error) wherever Slack lets us post; the process keeps serving
(a second question afterwards is answered); nothing is posted twice; and the failure is logged
once, with its cause. Each test uses its own channel so late posts cannot be mistaken.
"""

from __future__ import annotations

import itertools
import json
import logging
import shutil
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.pipeline import build_pipeline
from knowledge.base import KnowledgeBase
from knowledge.config import KnowledgeConfig
from tests.fakes.bot_server import (
    EVENTS_PATH,
    blocks_text,
    make_settings,
    mention,
    posts,
    running,
    settle,
    wait_posts,
)
from tests.fakes.chroma_server import ChromaServer
from tests.fakes.openai_server import FakeOpenAI, Reply
from tests.fakes.slack_server import BOT_USER_ID, FakeSlack, deliver, event_body

QUESTION = "Which jobs are most exposed to disruption by LLMs?"
JOBS_DOC = "003_0c1c93809ca1b7a8.txt"
FALLBACK_NOTE = "language model was unavailable"
GOOD_LLM_REPLY = "Customer service representatives are among the jobs at risk [1]."
_ids = itertools.count(1)


def ask(base: str, channel: str, text: str = QUESTION, **kw: Any) -> str:
    """Deliver one signed mention; returns its ts (the reply's thread)."""
    n = next(_ids)
    ts = f"1710.{n:06d}"
    r = deliver(base + EVENTS_PATH, event_body(mention(channel, f"<@{BOT_USER_ID}> {text}", ts, **kw), f"EvF{n}"))
    assert r.status == 200 and r.seconds < 3
    return ts


def warnings_with(caplog: pytest.LogCaptureFixture, *needles: str) -> list[logging.LogRecord]:
    """WARNING-or-worse records whose message contains every needle."""
    return [r for r in caplog.records if r.levelno >= logging.WARNING and all(n in r.getMessage() for n in needles)]


@pytest.fixture(scope="module")
def llm() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(default=Reply.chat(GOOD_LLM_REPLY)) as fake:
        yield fake


@pytest.fixture(scope="module")
def llm_served(slack: FakeSlack, llm: FakeOpenAI, kb: KnowledgeBase,
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, str]]:
    """One bot in LLM mode for all the LLM and Slack faults: short LLM timeouts so fallbacks come fast."""
    settings = make_settings(slack, tmp_path_factory.mktemp("faults"), OPENAI_API_KEY="sk-test-0000",
                             OPENAI_BASE_URL=llm.url, CAREERBOT_LLM_TIMEOUT="1", CAREERBOT_LLM_TOTAL_TIMEOUT="2.5")
    kb.search("warm up", k=1)
    with running(settings, build_pipeline(settings, kb=kb)) as pair:
        yield pair


@pytest.fixture(autouse=True)
def _reset_llm(llm: FakeOpenAI) -> Iterator[None]:
    yield
    llm.script.clear()
    llm.default = Reply.chat(GOOD_LLM_REPLY)


def wait_done(bot: Any, slack: FakeSlack, channel: str, timeout: float = 40.0) -> None:
    """Until the job for ``channel`` finished (the progress reaction is taken away last) and the bot settled."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(c.params.get("channel") == channel for c in slack.calls("reactions.remove")):
            settle(bot)
            return
        time.sleep(0.03)
    raise AssertionError(f"the job for {channel} did not finish")


def assert_still_serving(slack: FakeSlack, base: str, channel: str) -> None:
    """A second, ordinary question afterwards is answered, once, citing the jobs document."""
    ask(base, channel)
    [reply] = wait_posts(slack, channel)
    assert JOBS_DOC in blocks_text(reply)


# -- the LLM fails: the offline answer is posted, with a note ---------------------------------------------------
LLM_FAULTS = {
    "429": (Reply.error(429, retry_after=0.2), "HTTP 429"),
    "500": (Reply.error(500), "HTTP 500"),
    "timeout": (Reply.chat(GOOD_LLM_REPLY, delay=1.6), "timeout"),
    "malformed-json": (Reply.malformed(), "bad reply"),
    "empty-reply": (Reply.empty(), "empty reply"),
}


@pytest.mark.parametrize("fault", list(LLM_FAULTS))
def test_llm_fault_gets_the_offline_answer(llm_served: Any, slack: FakeSlack, llm: FakeOpenAI,
                                           caplog: pytest.LogCaptureFixture, fault: str) -> None:
    _, base = llm_served
    reply_fault, cause = LLM_FAULTS[fault]
    llm.default = reply_fault
    channel = f"C0LLM{fault.upper()[:6]}"
    caplog.set_level(logging.INFO)
    before = len(llm.chat_requests())
    ask(base, channel)
    [reply] = wait_posts(slack, channel, timeout=40)
    assert len(llm.chat_requests()) > before  # the LLM was really tried
    assert JOBS_DOC in blocks_text(reply) and FALLBACK_NOTE in blocks_text(reply)
    [logged] = warnings_with(caplog, "LLM writer failed", cause)
    assert len(warnings_with(caplog, "LLM writer failed")) == 1, "logged more than once"
    llm.default = Reply.chat(GOOD_LLM_REPLY)
    ask(base, channel + "B")
    [after] = wait_posts(slack, channel + "B", timeout=40)
    assert FALLBACK_NOTE not in blocks_text(after) and JOBS_DOC in blocks_text(after)


def test_llm_retries_a_429_and_then_answers(llm_served: Any, slack: FakeSlack, llm: FakeOpenAI,
                                            caplog: pytest.LogCaptureFixture) -> None:
    """One 429 with Retry-After is waited out inside the budget: an LLM answer, no fallback, no warning."""
    _, base = llm_served
    caplog.set_level(logging.INFO)
    llm.push(Reply.error(429, retry_after=0.3))
    before = len(llm.chat_requests())
    ask(base, "C0LLM429OK")
    [reply] = wait_posts(slack, "C0LLM429OK", timeout=40)
    tries = llm.chat_requests()[before:]
    assert len(tries) == 2 and tries[1]["time"] - tries[0]["time"] >= 0.3
    assert FALLBACK_NOTE not in blocks_text(reply) and "Customer service" in reply.params["text"]
    assert warnings_with(caplog, "LLM writer failed") == []


def test_llm_connection_refused_gets_the_offline_answer(slack: FakeSlack, kb: KnowledgeBase, tmp_path: Path,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}/v1"
    settings = make_settings(slack, tmp_path, OPENAI_API_KEY="sk-test-0000", OPENAI_BASE_URL=url,
                             CAREERBOT_LLM_TIMEOUT="1", CAREERBOT_LLM_TOTAL_TIMEOUT="1.5")
    caplog.set_level(logging.INFO)
    with running(settings, build_pipeline(settings, kb=kb)) as (_, base):
        ask(base, "C0REFUSED")
        [reply] = wait_posts(slack, "C0REFUSED", timeout=40)
        assert JOBS_DOC in blocks_text(reply) and FALLBACK_NOTE in blocks_text(reply)
        assert len(warnings_with(caplog, "LLM writer failed", "connection error")) == 1
        ask(base, "C0REFUSED2")
        assert len(wait_posts(slack, "C0REFUSED2", timeout=40)) == 1


# -- Slack fails -------------------------------------------------------------------------------------------------
def test_slack_429_on_post_is_waited_out_and_posted_once(llm_served: Any, slack: FakeSlack,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    _, base = llm_served
    caplog.set_level(logging.INFO)
    slack.fail("chat.postMessage", status=429, retry_after=1)
    ask(base, "C0SL429")
    [reply] = wait_posts(slack, "C0SL429", timeout=40, quiet=1.0)
    [refused] = [c for c in posts(slack, "C0SL429", ok_only=False) if c.params.get("_failed")]
    assert reply.at - refused.at >= 1.0
    assert reply.params["thread_ts"] and "Customer service" in reply.params["text"]
    assert warnings_with(caplog, "chat.postMessage failed") == []  # recovered: not an error
    assert_still_serving(slack, base, "C0SL429B")


def test_slack_5xx_once_is_retried_and_posted_once(llm_served: Any, slack: FakeSlack) -> None:
    _, base = llm_served
    slack.fail("chat.postMessage", status=502)
    ask(base, "C0SL5XX")
    [reply] = wait_posts(slack, "C0SL5XX", timeout=40, quiet=1.0)
    assert len(posts(slack, "C0SL5XX", ok_only=False)) == 2  # the failed try and the one that worked
    assert reply.params["text"]


def test_slack_5xx_that_persists_is_given_up_logged_once(llm_served: Any, slack: FakeSlack,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    """Slack down for good: a bounded number of tries, one warning naming the error, then back to work."""
    bot, base = llm_served
    caplog.set_level(logging.INFO)
    slack.fail("chat.postMessage", status=500, times=50)
    try:
        ask(base, "C0SLDOWN")
        wait_done(bot, slack, "C0SLDOWN")
        attempts = posts(slack, "C0SLDOWN", ok_only=False)
        assert 1 < len(attempts) <= 4 and all(c.params.get("_failed") for c in attempts)
    finally:
        slack.state.failures.clear()
    assert len(warnings_with(caplog, "chat.postMessage failed", "internal_error")) == 1
    assert_still_serving(slack, base, "C0SLDOWNB")


@pytest.mark.parametrize("error", ["channel_not_found", "not_in_channel"])
def test_slack_refuses_the_channel_logged_once_not_retried(llm_served: Any, slack: FakeSlack,
                                                           caplog: pytest.LogCaptureFixture, error: str) -> None:
    """Nowhere to post: no retry storm (one try), one warning with the cause, and the next question is answered."""
    bot, base = llm_served
    caplog.set_level(logging.INFO)
    channel = f"C0{error.upper()[:8]}"
    slack.fail("chat.postMessage", error=error)
    ask(base, channel)
    wait_done(bot, slack, channel)
    wait_quiet = [c for c in slack.calls("chat.postMessage") if c.params.get("channel") == channel]
    assert len(wait_quiet) == 1 and wait_quiet[0].params.get("_failed")
    assert len(warnings_with(caplog, "chat.postMessage failed", error)) == 1
    outcome = [json.loads(r.getMessage()) for r in caplog.records if r.name == "careerbot.requests"
               and '"error"' in r.getMessage()]
    assert [o["error"] for o in outcome] == [error]
    assert_still_serving(slack, base, channel + "B")


# -- the Chroma server goes away and comes back ---------------------------------------------------------------
@pytest.fixture
def chroma_kb(kb_data_dir: Path, tmp_path: Path) -> Iterator[tuple[ChromaServer, KnowledgeBase]]:
    """A real `chroma run` server over a copy of the session's seeded store, and a KnowledgeBase on it."""
    shutil.copytree(kb_data_dir / "chroma", tmp_path / "chroma")
    with ChromaServer(tmp_path / "chroma") as server:
        kb = KnowledgeBase(KnowledgeConfig(data_dir=tmp_path / "client", chroma_host=server.host,
                                           chroma_port=server.port))
        assert kb.search(QUESTION, k=1).passages
        yield server, kb


def test_chroma_stopped_mid_run_and_restarted(slack: FakeSlack, chroma_kb: tuple[ChromaServer, KnowledgeBase],
                                              tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    server, kb = chroma_kb
    settings = make_settings(slack, tmp_path / "bot", CHROMA_HOST=server.host, CHROMA_PORT=str(server.port))
    caplog.set_level(logging.INFO)
    with running(settings, build_pipeline(settings, kb=kb)) as (_, base):
        ask(base, "C0CHROMA1")
        [first] = wait_posts(slack, "C0CHROMA1", timeout=40)
        assert JOBS_DOC in blocks_text(first)

        server.stop()
        caplog.clear()
        ask(base, "C0CHROMA2")
        [during] = wait_posts(slack, "C0CHROMA2", timeout=40, quiet=1.0)
        assert during.params["text"]  # the asker hears back: an answer (BM25 alone) or a short error
        failures = [r for r in caplog.records if r.levelno >= logging.WARNING]
        if JOBS_DOC not in blocks_text(during):
            assert "couldn't answer" in during.params["text"]
            assert len(failures) == 1, [r.getMessage() for r in failures]
        with pytest.raises(urllib.error.HTTPError) as health:  # /healthz tells the load balancer
            urllib.request.urlopen(base + "/healthz?fresh", timeout=5)
        assert health.value.code == 503

        server.start()
        ask(base, "C0CHROMA3")
        [after] = wait_posts(slack, "C0CHROMA3", timeout=60)
        assert JOBS_DOC in blocks_text(after)
