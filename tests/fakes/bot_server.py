"""The bot under test, served for real: in-thread (front door + job runner) or as a `careerbot serve --http` process.

Shared by the fault, fuzz, security and load tests and by benchmarks/load.py, so every one of them
talks to the same HTTP server with signed requests (tests/fakes/slack_server.py) and reads what
the bot posted from the fake Slack, the same way.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.fakes.chroma_server import free_port
from tests.fakes.slack_server import TEST_SIGNING_SECRET, Call, FakeSlack

ROOT = Path(__file__).resolve().parents[2]
EVENTS_PATH = "/slack/events"
QUIET = 0.4  # seconds wait_posts waits after the posts it wanted, for an unwanted extra one
_SERVERS: dict[int, Any] = {}  # id(bot) -> its HTTPServer, for settle()

# Slack's own limits on a chat.postMessage (https://api.slack.com/reference/block-kit/blocks)
MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_MESSAGE_TEXT = 40_000


def settings_env(slack: FakeSlack, data_dir: Path, **env: str) -> dict[str, str]:
    """The environment a test bot runs with: fake Slack, test signing secret, a generous rate limit."""
    return {
        "SLACK_BOT_TOKEN": "xoxb-test-0000",
        "SLACK_SIGNING_SECRET": TEST_SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url,
        "CAREERBOT_DATA_DIR": str(data_dir),
        "CAREERBOT_RATE_LIMIT_PER_MINUTE": "100000",
        **env,
    }


def make_settings(slack: FakeSlack, data_dir: Path, **env: str) -> Any:
    from bot.settings import Settings

    return Settings.from_env(settings_env(slack, data_dir, **env), dotenv=False)


@contextmanager
def running(settings: Any, pipeline: Any, *, workers: int = 4) -> Iterator[tuple[Any, str]]:
    """A SlackBot behind the real front door, answering in its own job runner; yields (bot, base URL)."""
    from bot.server import HTTPServer
    from bot.slack_app import SlackBot, check_auth, make_client

    client = make_client(settings, settings.slack_bot_token)
    bot = SlackBot(settings, pipeline, auth=check_auth(client, settings.slack_api_url), client=client,
                   workers=workers)
    server = HTTPServer(bot, "127.0.0.1", 0)
    server.start()
    _SERVERS[id(bot)] = server
    try:
        yield bot, f"http://127.0.0.1:{server.port}"
    finally:
        _SERVERS.pop(id(bot), None)
        server.stop(drain_timeout_s=10)


def settle(bot: Any, timeout: float = 30.0) -> None:
    """Until the bot served by ``running`` has nothing left to do: no job journaled, queued or leased, and no
    worker busy. Whatever it would post for the requests acknowledged so far has been posted by then, so a
    test can assert that something was *not* posted without guessing how long the bot needs."""
    server = _SERVERS[id(bot)]
    deadline = time.monotonic() + timeout
    while server.pending() or bot.runner.pending:
        if time.monotonic() > deadline:
            raise AssertionError(f"the bot did not settle in {timeout} s ({server.pending()} job(s) left)")
        time.sleep(0.02)


def mention(channel: str, text: str, ts: str, *, user: str = "U0ASKER1", thread_ts: str | None = None) -> dict:
    ev: dict[str, Any] = {"type": "app_mention", "user": user, "text": text, "ts": ts, "channel": channel,
                          "event_ts": ts}
    if thread_ts:
        ev["thread_ts"] = thread_ts
    return ev


def posts(slack: FakeSlack, channel: str, *, ok_only: bool = True) -> list[Call]:
    return [c for c in slack.calls("chat.postMessage", ok_only=ok_only) if c.params.get("channel") == channel]


def wait_posts(slack: FakeSlack, channel: str, count: int = 1, timeout: float = 30.0,
               quiet: float = QUIET) -> list[Call]:
    """The successful posts to ``channel`` once ``count`` arrived and ``quiet`` seconds brought no more."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(posts(slack, channel)) >= count:
            time.sleep(quiet)
            return posts(slack, channel)
        time.sleep(0.03)
    raise AssertionError(f"{len(posts(slack, channel))} posts in {channel}, wanted {count}")


def blocks_text(call: Call) -> str:
    return json.dumps(call.params.get("blocks") or [], ensure_ascii=False)


def everything_posted(call: Call) -> str:
    """The text and blocks of a post, as one string to search."""
    return str(call.params.get("text") or "") + blocks_text(call)


def slack_limit_problems(params: dict[str, Any]) -> list[str]:
    """Why Slack would reject this message (empty list: it is within the limits)."""
    problems = []
    blocks = params.get("blocks") or []
    if len(blocks) > MAX_BLOCKS:
        problems.append(f"{len(blocks)} blocks")
    for b in blocks:
        if b.get("type") == "section" and len(b["text"]["text"]) > MAX_SECTION_TEXT:
            problems.append(f"section of {len(b['text']['text'])} chars")
        if b.get("type") == "section" and not b["text"]["text"].strip():
            problems.append("empty section")
        for e in b.get("elements") or []:
            if isinstance(e.get("text"), str) and len(e["text"]) > MAX_SECTION_TEXT:
                problems.append(f"context element of {len(e['text'])} chars")
    text = str(params.get("text") or "")
    if not text.strip():
        problems.append("empty text")
    if len(text) > MAX_MESSAGE_TEXT:
        problems.append(f"text of {len(text)} chars")
    return problems


# -- the real process ---------------------------------------------------------------------------------
def careerbot_cmd() -> list[str]:
    script = Path(sys.executable).parent / "careerbot"
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot.cli"]


def rss_kb(pid: int) -> tuple[int, int]:
    """(current RSS, peak RSS) of a process in KiB, from /proc/PID/status."""
    fields: dict[str, int] = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                fields[key] = int(value.split()[0])
    return fields.get("VmRSS", 0), fields.get("VmHWM", 0)


class BotProcess:
    """`careerbot serve --http` as a child process on a free loopback port, its output kept in a file."""

    def __init__(self, env: dict[str, str], log_path: Path, *, workers: int = 4, startup_timeout: float = 120) -> None:
        keep = {k: v for k, v in os.environ.items()
                if not k.startswith(("SLACK_", "OPENAI_", "CAREERBOT_", "CHROMA_"))}
        self.env = {**keep, "ANONYMIZED_TELEMETRY": "False", "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1", **env}
        self.log_path = log_path
        self.workers = workers
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.startup_timeout = startup_timeout
        self.proc: subprocess.Popen[bytes] | None = None
        self.exit_code: int | None = None

    def __enter__(self) -> BotProcess:
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [*careerbot_cmd(), "serve", "--http", "--host", "127.0.0.1", "--port", str(self.port),
                 "--workers", str(self.workers)],
                env=self.env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=self.log_path.parent,
            )
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"careerbot serve exited ({self.proc.returncode}):\n{self.output()[-2000:]}")
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=2):
                    return self
            except urllib.error.HTTPError:
                return self  # answering (503 while degraded) is listening
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"careerbot serve not listening after {self.startup_timeout:.0f} s")

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def events_url(self) -> str:
        return self.base + EVENTS_PATH

    def rss_kb(self) -> tuple[int, int]:
        assert self.proc is not None
        return rss_kb(self.proc.pid)

    def output(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self, timeout: float = 30) -> int | None:
        """SIGTERM (the graceful drain), then kill if it lingers; returns the exit code."""
        proc, self.proc = self.proc, None
        if proc is None:
            return self.exit_code
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        self.exit_code = proc.returncode
        return self.exit_code
