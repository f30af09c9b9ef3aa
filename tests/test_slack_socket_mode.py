"""Socket Mode: the same listeners over a WebSocket, against a local fake of Slack's socket endpoint.

apps.connections.open (on the fake Web API) hands out a ws:// URL served by ``websockets``; the
fake sends ``hello`` and one events_api envelope, and expects the envelope to be acknowledged.
``run_socket_mode`` runs for real, in the main thread, until a SIGTERM ends it with status 0.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.pipeline import build_pipeline
from bot.server import run_socket_mode
from bot.settings import Settings
from bot.slack_app import SlackBot, check_auth, make_client, require_tokens
from knowledge.errors import ConfigError
from tests.fakes.slack_server import BOT_USER_ID, FakeSlack, event_body

sync_server = pytest.importorskip("websockets.sync.server")

QUESTION = "Which jobs are most exposed to disruption by LLMs?"
JOBS_DOC = "003_0c1c93809ca1b7a8.txt"


class FakeSocketMode:
    """A ws:// endpoint that greets, sends queued envelopes, and records the bot's acks."""

    def __init__(self, envelopes: list[dict[str, Any]]) -> None:
        self.envelopes = envelopes
        self.acks: list[str] = []
        self._server = sync_server.serve(self._handle, "127.0.0.1", 0)
        self.url = f"ws://127.0.0.1:{self._server.socket.getsockname()[1]}/link"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def _handle(self, ws: Any) -> None:
        ws.send(json.dumps({"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A0TEST001"},
                            "debug_info": {"host": "fake"}}))
        for env in self.envelopes:
            ws.send(json.dumps(env))
        try:
            while True:
                msg = ws.recv(timeout=30)
                data = json.loads(msg)
                if data.get("envelope_id"):
                    self.acks.append(data["envelope_id"])
        except Exception:  # closed by the bot, or idle
            return

    def stop(self) -> None:
        self._server.shutdown()


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


def test_each_mode_names_the_token_it_misses() -> None:
    settings = Settings.from_env({"SLACK_BOT_TOKEN": "xoxb-test-0000"}, dotenv=False)
    with pytest.raises(ConfigError, match="SLACK_APP_TOKEN"):
        require_tokens(settings, socket_mode=True)
    with pytest.raises(ConfigError, match="SLACK_SIGNING_SECRET"):
        require_tokens(settings, socket_mode=False)
    socket_only = Settings.from_env({"SLACK_BOT_TOKEN": "xoxb-test-0000", "SLACK_APP_TOKEN": "xapp-test-0000"},
                                    dotenv=False)
    require_tokens(socket_only, socket_mode=True)  # no signing secret needed over the socket


def test_socket_mode_acks_the_envelope_and_answers(slack: FakeSlack, kb: Any, tmp_path: Path) -> None:
    event = {"type": "app_mention", "user": "U0SOCK01", "text": f"<@{BOT_USER_ID}> {QUESTION}", "ts": "2000.0001",
             "channel": "C0SOCKET"}
    envelope = {"envelope_id": "env-0001", "type": "events_api", "accepts_response_payload": False,
                "retry_attempt": 0, "retry_reason": "", "payload": json.loads(event_body(event, "EvSock1"))}
    socket_server = FakeSocketMode([envelope])
    slack.socket_url = socket_server.url
    settings = Settings.from_env({"SLACK_BOT_TOKEN": "xoxb-test-0000", "SLACK_APP_TOKEN": "xapp-test-0000",
                                  "SLACK_API_URL": slack.api_url, "CAREERBOT_DATA_DIR": str(tmp_path)}, dotenv=False)
    client = make_client(settings, settings.slack_bot_token)
    bot = SlackBot(settings, build_pipeline(settings, kb=kb), auth=check_auth(client, settings.slack_api_url),
                   client=client, socket_mode=True)

    def stop_when_answered() -> None:
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if [c for c in slack.calls("chat.postMessage", ok_only=True) if c.params.get("channel") == "C0SOCKET"]:
                    break
                time.sleep(0.05)
        finally:
            os.kill(os.getpid(), signal.SIGTERM)

    old = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    threading.Thread(target=stop_when_answered, daemon=True).start()
    try:
        code = run_socket_mode(bot, str(settings.slack_app_token), drain_timeout_s=10)
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)
        socket_server.stop()
    assert code == 0
    assert socket_server.acks == ["env-0001"]
    [opened] = slack.calls("apps.connections.open")
    posted = [c for c in slack.calls("chat.postMessage", ok_only=True) if c.params.get("channel") == "C0SOCKET"]
    assert len(posted) == 1 and posted[0].params["thread_ts"] == "2000.0001"
    assert JOBS_DOC in json.dumps(posted[0].params["blocks"])
