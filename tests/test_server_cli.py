"""`careerbot serve --http` as a real process: startup checks, an answer, /healthz, logs, SIGTERM.

The process talks to the fake Slack Web API (SLACK_API_URL) and answers from a copy of the
session's seeded store, so nothing is ingested again.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.slack_server import BOT_USER_ID, TEST_SIGNING_SECRET, FakeSlack, deliver, event_body

QUESTION = "Which jobs are most exposed to disruption by LLMs?"
JOBS_DOC = "003_0c1c93809ca1b7a8.txt"
BOT_TOKEN = "xoxb-test-0000"
OUR_VARS = ("SLACK_", "OPENAI_", "CAREERBOT_", "CHROMA_", "PORT")


def _env(slack: FakeSlack, data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(OUR_VARS)}
    env.update({
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": TEST_SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url,
        "CAREERBOT_DATA_DIR": str(data_dir),
        "CAREERBOT_LOG_LEVEL": "INFO",
        "PYTHONUNBUFFERED": "1",
    })
    env.update(extra)
    return env


def _careerbot(*args: str) -> list[str]:
    return [sys.executable, "-m", "bot.cli", *args]


class Served:
    """A running `careerbot serve --http --port 0`, its stderr collected line by line."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.proc = subprocess.Popen(_careerbot("serve", "--http", "--host", "127.0.0.1", "--port", "0"), env=env,
                                     cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: list[str] = []
        self.port: int | None = None
        self._ready = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))
            m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
            if m:
                self.port = int(m.group(1))
                self._ready.set()
        self._ready.set()

    def wait_ready(self, timeout: float = 120) -> str:
        self._ready.wait(timeout)
        assert self.port, "server did not start:\n" + "\n".join(self.lines[-20:])
        return f"http://127.0.0.1:{self.port}"

    def log_records(self) -> list[dict]:
        out = []
        for line in self.lines:
            if line.startswith("{"):
                try:
                    out.append(json.loads(line))
                except ValueError:
                    pass
        return out


@pytest.fixture(scope="module")
def served(slack: FakeSlack, kb_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    work = tmp_path_factory.mktemp("serve")
    data = work / "data"
    shutil.copytree(kb_data_dir, data)
    server = Served(_env(slack, data), work)
    try:
        yield server
    finally:
        if server.proc.poll() is None:
            server.proc.kill()
            server.proc.wait(10)


def test_missing_token_is_one_clear_line(clean_env: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(OUR_VARS)}
    env["CAREERBOT_DATA_DIR"] = str(clean_env / "data")
    r = subprocess.run(_careerbot("serve", "--http"), env=env, cwd=clean_env, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode != 0
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert lines == ["Error: SLACK_BOT_TOKEN is not set (the bot token, xoxb-…, from your Slack app's OAuth page)"]


def test_rejected_token_is_one_clear_line(slack: FakeSlack, clean_env: Path) -> None:
    env = _env(slack, clean_env / "data", SLACK_BOT_TOKEN="xoxb-test-invalid")
    r = subprocess.run(_careerbot("serve", "--http", "--port", "0"), env=env, cwd=clean_env, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode != 0
    lines = [ln for ln in (r.stdout + r.stderr).splitlines() if ln.strip()]
    assert len(lines) == 1 and "invalid_auth" in lines[0] and "SLACK_BOT_TOKEN" in lines[0]
    assert "xoxb-test-invalid" not in r.stderr


def test_serve_answers_a_mention_in_its_thread(served: Served, slack: FakeSlack) -> None:
    base = served.wait_ready()
    auth_calls = len(slack.calls("auth.test"))
    body = event_body({"type": "app_mention", "user": "U0CLI001", "text": f"<@{BOT_USER_ID}> {QUESTION}",
                       "ts": "1900.0001", "channel": "C0CLI"}, "EvCli1")
    r = deliver(base + "/slack/events", body)
    assert r.status == 200 and r.seconds < 3
    slack.wait_for("chat.postMessage", 1, timeout=60)
    # the request's log line is written once its job is over: every post it would make has been made by then
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not any(r.get("event_id") == "EvCli1" for r in served.log_records()):
        time.sleep(0.05)
    calls = [c for c in slack.calls("chat.postMessage", ok_only=True) if c.params.get("channel") == "C0CLI"]
    assert len(calls) == 1
    assert calls[0].params["thread_ts"] == "1900.0001"
    assert JOBS_DOC in json.dumps(calls[0].params["blocks"])
    assert len(slack.calls("auth.test")) == auth_calls  # auth.test ran once, at startup

    with urllib.request.urlopen(base + "/healthz", timeout=5) as resp:
        health = json.loads(resp.read())
    assert health["status"] == "ok" and health["store"]["ok"] and health["llm"]["configured"] is False

    # one structured line for that request, without the question or any secret
    [record] = [r for r in served.log_records() if r.get("event_id") == "EvCli1"]
    assert record["outcome"] == "answered" and record["mode"] == "extractive" and record["refused"] is False
    assert record["channel_type"] == "channel" and record["latency_ms"] > 0
    everything = "\n".join(served.lines)
    assert QUESTION not in everything
    assert BOT_TOKEN not in everything and TEST_SIGNING_SECRET not in everything


def test_sigterm_finishes_the_answer_in_progress_then_exits_0(served: Served, slack: FakeSlack) -> None:
    base = served.wait_ready()
    slack.set_thread("C0TERM", "1900.0100", [{"user": "U0CLI001", "ts": "1900.0100", "text": "hello"}])
    slack.slow("conversations.replies", 2.0)  # keeps the answer in progress while SIGTERM arrives
    body = event_body({"type": "app_mention", "user": "U0CLI001", "text": f"<@{BOT_USER_ID}> {QUESTION}",
                       "ts": "1900.0101", "thread_ts": "1900.0100", "channel": "C0TERM"}, "EvTerm1")
    assert deliver(base + "/slack/events", body).status == 200
    deadline = time.monotonic() + 10
    while not [c for c in slack.calls("reactions.add") if c.params.get("channel") == "C0TERM"]:
        assert time.monotonic() < deadline, "work never started"
        time.sleep(0.02)
    served.proc.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    late = deliver(base + "/slack/events", event_body({"type": "app_mention", "user": "U0CLI002",
                                                       "text": f"<@{BOT_USER_ID}> hi", "ts": "1900.0102",
                                                       "channel": "C0TERM"}, "EvTerm2"))
    assert late.status == 503
    assert served.proc.wait(timeout=30) == 0
    posted = [c for c in slack.calls("chat.postMessage", ok_only=True) if c.params.get("channel") == "C0TERM"]
    assert len(posted) == 1 and posted[0].params["thread_ts"] == "1900.0100"
    assert JOBS_DOC in json.dumps(posted[0].params["blocks"])
