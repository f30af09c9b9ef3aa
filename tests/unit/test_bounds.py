"""Per-message bounds, without a server: response_url targets, the question cut, rate-limit notices."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.hooks import allowed_response_url
from bot.slack_app import QUESTION_CHARS, cut_markup
from bot.state import State, Verdict

FAKE_API = "http://127.0.0.1:8123/api/"


@pytest.mark.parametrize("url", [
    "https://hooks.slack.com/commands/T0/1/abc",
    "https://hooks.slack.com:443/actions/T0/1/abc",
    "https://HOOKS.SLACK.COM./commands/x",
    "https://hooks.slack-gov.com/commands/T0/1/abc",
])
def test_slack_hooks_urls_are_allowed(url: str) -> None:
    assert allowed_response_url(url)


@pytest.mark.parametrize("url", [
    "http://hooks.slack.com/commands/x",  # not HTTPS
    "https://hooks.slack.com:8443/commands/x",
    "https://hooks.slack.com.evil.example/x",
    "https://evil.example/?https://hooks.slack.com/",
    "https://user:pw@hooks.slack.com/x",
    "http://127.0.0.1:8123/response/x",  # the fake Slack's origin, but SLACK_API_URL is the default
    "http://169.254.169.254/latest/meta-data/",
    "http://[::1]/x", "file:///etc/passwd", "gopher://hooks.slack.com/", "", "not a url", None, 42,
])
def test_everything_else_is_refused(url: object) -> None:
    assert not allowed_response_url(url)


def test_a_non_default_slack_api_url_allows_exactly_its_origin() -> None:
    assert allowed_response_url("http://127.0.0.1:8123/response/r1", FAKE_API)
    assert allowed_response_url("https://hooks.slack.com/commands/x", FAKE_API)
    for other in ("http://127.0.0.1:8124/response/r1", "https://127.0.0.1:8123/r", "http://localhost:8123/r",
                  "http://169.254.169.254/latest/meta-data/"):
        assert not allowed_response_url(other, FAKE_API), other


def test_the_question_is_cut_before_any_mention_is_looked_up() -> None:
    storm = " ".join(f"<@U{i:08d}>" for i in range(3000))
    cut = cut_markup(storm, QUESTION_CHARS)
    assert len(cut) <= QUESTION_CHARS and cut.count("<") == cut.count(">")
    assert cut_markup("short <@U1>", 100) == "short <@U1>"
    assert cut_markup("abc <@U1234567>", 8) == "abc "


def test_over_the_limit_one_notice_per_window_then_silence(tmp_path: Path) -> None:
    state = State.open(f"sqlite:///{tmp_path / 'state.sqlite3'}")
    verdicts = [state.hit_rate_limit("U1", 3, 3600) for _ in range(40)]
    assert verdicts.count(Verdict.ALLOW) == 3 and verdicts.count(Verdict.NOTIFY) == 1
    assert verdicts[3] is Verdict.NOTIFY and set(verdicts[4:]) == {Verdict.SILENT}
    assert state.hit_rate_limit("U1", 3, 3600, "command") is Verdict.NOTIFY  # another surface is told once too
    assert state.hit_rate_limit("U2", 3, 3600) is Verdict.ALLOW


def test_the_notice_comes_again_in_the_next_window(tmp_path: Path) -> None:
    state = State.open(f"sqlite:///{tmp_path / 'state.sqlite3'}")
    import time

    window = 0.5
    while time.time() % window > window / 4:  # start near the beginning of a window
        time.sleep(0.01)
    assert [state.hit_rate_limit("U1", 1, window) for _ in range(3)] == [Verdict.ALLOW, Verdict.NOTIFY,
                                                                         Verdict.SILENT]
    deadline = time.monotonic() + 5
    while state.hit_rate_limit("U1", 1, window) is not Verdict.ALLOW:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert [state.hit_rate_limit("U1", 1, window) for _ in range(2)] == [Verdict.NOTIFY, Verdict.SILENT]


def test_a_burst_is_recorded_in_one_call_with_each_claim_honoured(tmp_path: object) -> None:
    """The front door's group commit: duplicates inside the batch and against earlier claims get None."""
    from pathlib import Path

    from bot.state import State

    state = State.open(f"sqlite:///{Path(str(tmp_path)) / 'state.sqlite3'}")
    assert state.enqueue("event", {"n": 0}, claims=["ev:old"]) is not None
    ids = state.enqueue_many([("event", {"n": 1}, ["ev:1", "msg:C:1"]), ("event", {"n": 2}, ["ev:2", "msg:C:1"]),
                              ("event", {"n": 3}, ["ev:old"]), ("command", {"n": 4}, ["cmd:x", None])])
    assert [i is not None for i in ids] == [True, False, False, True]
    assert state.counts() == {"queued": 3}
    assert state.claim("ev:2")  # the refused item claimed nothing
    assert not state.claim("msg:C:1") and not state.claim("cmd:x")
