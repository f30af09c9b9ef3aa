"""Bad input, property-based: whatever people (or a broken client) send, the bot answers within Slack's limits.

Hypothesis generates the questions, event payloads, form bodies and file contents; each property is
bounded (``max_examples``) so the module runs in well under a minute. One real HTTP server (the front door)
serves every Slack property; the fake Slack records what was posted. The properties:

* a mention with any text → 200 in < 3 s, exactly one reply, within Slack's limits, no broadcast ping;
* any event payload (missing fields, wrong types, not JSON at all) → never a 500, never a worker crash;
* any slash-command or interactivity form body → never a 500;
* ``Pipeline.answer`` on any text → an ``Answer`` that renders within Slack's limits;
* any bytes in a knowledge file → ``Document`` or ``SkipFile``, never another exception.
"""

from __future__ import annotations

import itertools
import json
import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.answer import Answer
from bot.blocks import answer_blocks, answer_fallback
from bot.pipeline import build_pipeline
from tests.fakes.bot_server import (
    EVENTS_PATH,
    everything_posted,
    make_settings,
    mention,
    running,
    slack_limit_problems,
    wait_posts,
)
from tests.fakes.fuzz import FAST, SLOW
from tests.fakes.slack_server import BOT_USER_ID, FakeSlack, deliver, event_body, form_body

QUESTION = "Which jobs are most exposed to disruption by LLMs?"
PINGS = ("<!channel>", "<!here>", "<!everyone>", "<@U0VICTIM>")
_ids = itertools.count(1)


# -- what people type --------------------------------------------------------------------------------------------
MARKUP = ["<@U0VICTIM>", "<!channel>", "<!here>", "<!everyone>", "<#C0GENERAL|general>", "<http://x.example|x>",
          "<https://x.example>", "&amp;", "&lt;", "&gt;", "*bold*", "_it_", "~s~", "`c`", "```", "<", ">", "|",
          "<!subteam^S0TEAM|@team>", "<mailto:a@b.example|mail>", "<!date^1392734382^{date}|Feb 18>", "@here",
          "@channel", f"<@{BOT_USER_ID}>", "\n", "> quote", "• ", ":wave:", "[1]", "[x](http://y.example)"]
emoji = st.text(alphabet=st.characters(min_codepoint=0x1F300, max_codepoint=0x1FAFF), min_size=1, max_size=40)
rtl = st.text(alphabet=st.characters(min_codepoint=0x0590, max_codepoint=0x06FF), min_size=1, max_size=80).map(
    lambda s: "\u202e" + s + "\u202c")
controls = st.text(alphabet=st.characters(categories=["Cc", "Cf", "Zl", "Zp"]), max_size=60)
surrogates = st.text(alphabet=st.characters(categories=["Cs"]), min_size=1, max_size=5)  # JSON can carry them
long_text = st.text(min_size=1, max_size=12).map(lambda s: (s * (10_000 // len(s) + 1))[:10_000])
code_block = st.text(max_size=200).map(lambda s: f"```{s}```")
soup = st.lists(st.one_of(st.sampled_from(MARKUP), st.text(max_size=8)), max_size=25).map("".join)
form_questions = st.one_of(
    st.just(""), st.just(" "), st.text(max_size=300), emoji, rtl, controls, long_text, code_block, soup,
    st.tuples(soup, st.just(QUESTION), soup).map(" ".join),
)
questions = st.one_of(form_questions, st.tuples(surrogates, st.just(QUESTION)).map(" ".join))


@pytest.fixture(scope="module")
def pipeline(slack: FakeSlack, kb: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    p = build_pipeline(make_settings(slack, tmp_path_factory.mktemp("fuzzdata")), kb=kb)
    kb.search("warm up", k=1)
    return p


@pytest.fixture(scope="module")
def served(slack: FakeSlack, pipeline: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, str]]:
    with running(make_settings(slack, tmp_path_factory.mktemp("fuzzbot")), pipeline) as pair:
        yield pair


def settle(bot: Any, timeout: float = 30.0) -> None:
    """Wait until the worker pool has finished everything it accepted."""
    deadline = time.monotonic() + timeout
    while bot.pool.pending and time.monotonic() < deadline:
        time.sleep(0.05)
    assert bot.pool.pending == 0


def crashes(caplog: pytest.LogCaptureFixture) -> list[str]:
    """ERROR records: a worker job that raised, a request that became a 500, a pipeline failure."""
    return [f"{r.name}: {r.getMessage()}" for r in caplog.records if r.levelno >= logging.ERROR]


def still_answers(slack: FakeSlack, base: str, channel: str) -> None:
    n = next(_ids)
    deliver(base + EVENTS_PATH, event_body(mention(channel, f"<@{BOT_USER_ID}> {QUESTION}", f"1720.{n:06d}"),
                                           f"EvFuzzOk{n}"))
    [reply] = wait_posts(slack, channel)
    assert ".txt" in everything_posted(reply)


# -- Slack, end to end -------------------------------------------------------------------------------------------
def test_any_mention_text_gets_one_bounded_reply(served: Any, slack: FakeSlack,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    bot, base = served
    caplog.set_level(logging.INFO)

    @SLOW
    @given(text=questions)
    def prop(text: str) -> None:
        n = next(_ids)
        channel, ts = f"C0FZ{n:05d}", f"1720.{n:06d}"
        r = deliver(base + EVENTS_PATH, event_body(mention(channel, f"<@{BOT_USER_ID}> {text}", ts,
                                                           user=f"U0FZ{n:05d}"), f"EvFz{n}"))
        assert r.status == 200 and r.seconds < 3
        [reply] = wait_posts(slack, channel, timeout=15, quiet=0.05)
        assert reply.params["thread_ts"] == ts
        assert slack_limit_problems(reply.params) == []
        posted = everything_posted(reply)
        assert not any(p in posted for p in PINGS)

    prop()
    settle(bot)
    assert crashes(caplog) == []


def test_malformed_event_payloads_never_500(served: Any, slack: FakeSlack, caplog: pytest.LogCaptureFixture) -> None:
    bot, base = served
    caplog.set_level(logging.INFO)
    scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
    anything = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                            | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=8)
    field = st.one_of(anything, st.text(max_size=30))
    event = st.fixed_dictionaries({}, optional={
        "type": st.one_of(st.sampled_from(["app_mention", "message", "reaction_added", ""]), anything),
        "user": field, "text": st.one_of(questions, anything), "ts": field, "channel": field,
        "channel_type": st.one_of(st.sampled_from(["im", "channel", "mpim"]), anything),
        "thread_ts": field, "subtype": field, "bot_id": field, "event_ts": field,
    })
    envelope = st.fixed_dictionaries({"type": st.sampled_from(["event_callback", "url_verification", "app_rate_limited",
                                                               "nonsense"])},
                                     optional={"event": st.one_of(event, anything), "event_id": field,
                                               "team_id": field, "api_app_id": field, "challenge": field,
                                               "authorizations": anything})
    body = st.one_of(envelope.map(lambda e: json.dumps(e).encode()), anything.map(lambda e: json.dumps(e).encode()),
                     st.binary(max_size=200), st.text(max_size=200).map(str.encode))

    @FAST
    @given(raw=body, ctype=st.sampled_from(["application/json", "application/x-www-form-urlencoded", "text/plain"]))
    def prop(raw: bytes, ctype: str) -> None:
        r = deliver(base + EVENTS_PATH, raw, content_type=ctype)
        assert r.status < 500, (r.status, r.body[:200])
        assert r.seconds < 3

    prop()
    settle(bot)
    assert crashes(caplog) == []
    still_answers(slack, base, "C0FZAFTER1")


def test_malformed_form_bodies_never_500(served: Any, slack: FakeSlack, caplog: pytest.LogCaptureFixture) -> None:
    bot, base = served
    caplog.set_level(logging.INFO)
    text = form_questions
    urls = st.sampled_from([slack.response_url("fuzz"), "", "not a url", "http://127.0.0.1:9/nowhere"])
    command = st.fixed_dictionaries({}, optional={
        "command": st.one_of(st.sampled_from(["/career-role", "/career-roles", "/unknown", ""]), st.text(max_size=10)),
        "text": text, "user_id": text, "channel_id": text, "team_id": text, "response_url": urls,
        "trigger_id": text, "api_app_id": text,
    })
    action = st.fixed_dictionaries({}, optional={
        "action_id": st.one_of(st.sampled_from(["feedback_up", "feedback_down", "share_role"]), st.text(max_size=10)),
        "value": st.one_of(text, st.integers(), st.none()), "block_id": text, "type": text,
    })
    payload = st.fixed_dictionaries({"type": st.sampled_from(["block_actions", "view_submission", "shortcut", "x"])},
                                    optional={"user": st.one_of(st.fixed_dictionaries({"id": text}), text),
                                              "channel": st.one_of(st.fixed_dictionaries({"id": text}), text),
                                              "actions": st.one_of(st.lists(action, max_size=2), text),
                                              "response_url": urls, "team": st.fixed_dictionaries({"id": text}),
                                              "message": st.one_of(st.fixed_dictionaries({"ts": text}), text)})
    bodies = st.one_of(
        command.map(lambda c: form_body(c)),
        payload.map(lambda p: form_body({"payload": json.dumps(p)})),
        st.text(max_size=200).map(lambda t: form_body({"payload": t})),
        st.binary(max_size=200),
    )

    @FAST
    @given(raw=bodies)
    def prop(raw: bytes) -> None:
        r = deliver(base + EVENTS_PATH, raw, content_type="application/x-www-form-urlencoded")
        assert r.status < 500, (r.status, r.body[:200])
        assert r.seconds < 3

    prop()
    settle(bot, timeout=60)
    assert crashes(caplog) == []
    still_answers(slack, base, "C0FZAFTER2")


# -- the pipeline directly ---------------------------------------------------------------------------------------
def test_pipeline_answers_any_text_within_limits(pipeline: Any) -> None:
    @SLOW
    @given(text=questions)
    def prop(text: str) -> None:
        answer = pipeline.answer(text)
        assert isinstance(answer, Answer)
        assert answer.text.strip()
        assert answer.refused == (not answer.citations)
        for c in answer.citations:
            assert f"[{c.n}]" in answer.text and c.source.endswith(".txt")
        params = {"text": answer_fallback(answer), "blocks": answer_blocks(answer, "fb0001")}
        assert slack_limit_problems(params) == []

    prop()


