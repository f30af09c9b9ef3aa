"""A fake Slack Web API on 127.0.0.1 (a free port), for offline tests of the Slack app.

Point SLACK_API_URL at ``server.api_url``. It answers the methods the bot uses, records every
call (method, params, time), takes response_url posts under ``server.response_url(...)``, and can
be scripted to fail: ``fail("chat.postMessage", status=429, retry_after=1)``,
``fail("chat.postMessage", error="channel_not_found")``, ``fail("chat.postMessage", status=500)``.

The AI-app surface is there too: ``assistant.threads.setStatus`` / ``setSuggestedPrompts`` /
``setTitle``, ``views.publish``, chat streaming (``chat.startStream`` hands out a message ts that
``chat.appendStream`` / ``chat.stopStream`` / ``chat.update`` then address), all recorded like the rest.
``fail("chat.startStream", error="unknown_method")`` plays a workspace without streaming.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlparse

VALID_TOKEN_PREFIXES = ("xoxb-test-", "xapp-test-")
BOT_USER_ID = "UBOT0001"
BOT_ID = "BBOT0001"
TEAM_ID = "T0TEST001"


@dataclass
class Call:
    method: str  # e.g. "chat.postMessage", or "response_url" for response_url posts
    params: dict[str, Any]
    at: float  # time.monotonic()
    path: str = ""


@dataclass
class Failure:
    status: int = 200
    error: str | None = None
    retry_after: int | None = None
    times: int = 1
    delay: float = 0.0  # seconds to wait before answering (a slow Slack)


@dataclass
class _State:
    calls: list[Call] = field(default_factory=list)
    failures: dict[str, list[Failure]] = field(default_factory=dict)
    replies: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    posted: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # channel -> messages the bot posted
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    history: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    changed: threading.Condition = field(init=False)
    ts_counter: int = 0

    def __post_init__(self) -> None:
        self.changed = threading.Condition(self.lock)


class FakeSlack:
    """Start with ``with FakeSlack() as slack:``; ``slack.api_url`` is the Web API base URL."""

    def __init__(self) -> None:
        self.state = _State()
        self.socket_url: str | None = None  # what apps.connections.open hands out (Socket Mode tests)
        state = self.state
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length).decode("utf-8") if length else ""
                ctype = self.headers.get("content-type", "")
                params: dict[str, Any]
                if "json" in ctype:
                    params = json.loads(raw or "{}")
                else:
                    params = dict(parse_qsl(raw))
                    for key in ("blocks", "attachments"):
                        if isinstance(params.get(key), str):
                            try:
                                params[key] = json.loads(params[key])
                            except ValueError:
                                pass
                path = urlparse(self.path).path
                token = (self.headers.get("authorization") or "").removeprefix("Bearer ").strip()
                if path.startswith("/redirect/"):  # a response_url that redirects elsewhere (?to=URL)
                    self._record("redirect", params, path)
                    target = dict(parse_qsl(urlparse(self.path).query)).get("to", "/")
                    self._send(302, "", content_type="text/plain", headers={"Location": target})
                    return
                if path.startswith("/response/"):
                    self._record("response_url", params, path)
                    self._send(200, "ok", content_type="text/plain")
                    return
                method = path.removeprefix("/api/").strip("/")
                failure = self._take_failure(method)
                if failure is not None and failure.delay:
                    time.sleep(failure.delay)
                    if failure.status == 200 and failure.error is None:
                        failure = None
                self._record(method, params, path, failed=failure is not None)
                if failure is not None:
                    headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
                    if failure.status != 200:
                        body = {"ok": False, "error": failure.error or ("ratelimited" if failure.status == 429
                                                                        else "internal_error")}
                        self._send(failure.status, json.dumps(body), headers=headers)
                    else:
                        self._send(200, json.dumps({"ok": False, "error": failure.error}), headers=headers)
                    return
                if not token.startswith(VALID_TOKEN_PREFIXES) or token.endswith("invalid"):
                    self._send(200, json.dumps({"ok": False, "error": "invalid_auth"}))
                    return
                self._send(200, json.dumps(self._answer(method, params)))

            def _take_failure(self, method: str) -> Failure | None:
                with state.lock:
                    queue = state.failures.get(method) or []
                    if not queue:
                        return None
                    f = queue[0]
                    f.times -= 1
                    if f.times <= 0:
                        queue.pop(0)
                    return f

            def _record(self, method: str, params: dict[str, Any], path: str, failed: bool = False) -> None:
                with state.changed:
                    state.calls.append(Call(method, {**params, **({"_failed": True} if failed else {})},
                                            time.monotonic(), path))
                    state.changed.notify_all()

            def _answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
                with state.lock:
                    state.ts_counter += 1
                    ts = f"{1700000000 + state.ts_counter}.{state.ts_counter:06d}"
                if method == "auth.test":
                    return {"ok": True, "url": "https://test.slack.com/", "team": "Test", "user": "careerbot",
                            "team_id": TEAM_ID, "user_id": BOT_USER_ID, "bot_id": BOT_ID}
                if method == "chat.postMessage":  # kept, so conversations.replies/history show it
                    message = {"type": "message", "bot_id": BOT_ID, "user": BOT_USER_ID, "text": params.get("text"),
                               "ts": ts, **({"thread_ts": params["thread_ts"]} if params.get("thread_ts") else {}),
                               **({"metadata": params["metadata"]} if params.get("metadata") else {})}
                    with state.lock:
                        state.posted.setdefault(str(params.get("channel")), []).append(message)
                    return {"ok": True, "channel": params.get("channel"), "ts": ts, "message": message}
                if method in ("chat.update", "chat.stopStream"):  # the kept message changes too
                    with state.lock:
                        for m in state.posted.get(str(params.get("channel")), []):
                            if m["ts"] == params.get("ts"):
                                m.update({k: params[k] for k in ("text", "metadata") if params.get(k)})
                    return {"ok": True, "channel": params.get("channel"), "ts": params.get("ts") or ts,
                            "message": {"text": params.get("text"), "ts": params.get("ts") or ts}}
                if method == "apps.connections.open":
                    return {"ok": True, "url": fake.socket_url} if fake.socket_url else {"ok": False,
                                                                                        "error": "not_allowed"}
                if method == "chat.startStream":  # a message in the thread, like a post
                    message = {"type": "message", "bot_id": BOT_ID, "user": BOT_USER_ID, "ts": ts,
                               "text": params.get("markdown_text") or "", "thread_ts": params.get("thread_ts")}
                    with state.lock:
                        state.posted.setdefault(str(params.get("channel")), []).append(message)
                    return {"ok": True, "channel": params.get("channel"), "ts": ts}
                if method == "chat.appendStream":
                    return {"ok": True, "channel": params.get("channel"), "ts": params.get("ts")}
                if method == "views.publish":
                    return {"ok": True, "view": {"id": f"V{state.ts_counter:08d}", **(params.get("view") or {})}}
                if method == "chat.postEphemeral":
                    return {"ok": True, "message_ts": ts}
                if method in ("conversations.replies", "conversations.history"):
                    channel = str(params.get("channel"))
                    with_meta = str(params.get("include_all_metadata", "")).lower() in ("1", "true")
                    with state.lock:
                        posted = list(state.posted.get(channel, []))
                    if method == "conversations.replies":
                        thread = str(params.get("ts"))
                        found = list(state.replies.get((channel, thread), []))
                        found += [m for m in posted if m.get("thread_ts") == thread]
                    else:  # what set_history gave (other people's messages), then the bot's own
                        oldest = float(params.get("oldest") or 0)
                        found = list(state.history.get(channel, []))
                        found += [m for m in posted if float(m["ts"]) > oldest]
                    if not with_meta:
                        found = [{k: v for k, v in m.items() if k != "metadata"} for m in found]
                    return {"ok": True, "messages": found, "has_more": False}
                if method == "users.info":
                    uid = str(params.get("user"))
                    user = state.users.get(uid) or {"id": uid, "name": uid.lower(), "profile": {}}
                    return {"ok": True, "user": user}
                return {"ok": True}

            def _send(self, status: int, body: str, *, content_type: str = "application/json",
                      headers: dict[str, str] | None = None) -> None:
                data = body.encode()
                self.send_response(status)
                self.send_header("content-type", content_type)
                self.send_header("content-length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.port = int(self._httpd.server_address[1])
        self.api_url = f"http://127.0.0.1:{self.port}/api/"
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="fake-slack", daemon=True)

    # -- lifecycle ----------------------------------------------------------------------------------
    def start(self) -> FakeSlack:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- scripting ------------------------------------------------------------------------------------
    def fail(self, method: str, *, status: int = 200, error: str | None = None, retry_after: int | None = None,
             times: int = 1) -> None:
        with self.state.lock:
            self.state.failures.setdefault(method, []).append(Failure(status, error, retry_after, times))

    def slow(self, method: str, seconds: float, *, times: int = 1) -> None:
        """The next ``times`` calls of ``method`` succeed, but only after ``seconds``."""
        with self.state.lock:
            self.state.failures.setdefault(method, []).append(Failure(delay=seconds, times=times))

    def set_thread(self, channel: str, thread_ts: str, messages: list[dict[str, Any]]) -> None:
        """What conversations.replies returns for that thread."""
        with self.state.lock:
            self.state.replies[(channel, thread_ts)] = messages

    def set_user(self, user_id: str, display_name: str, *, locale: str | None = None) -> None:
        with self.state.lock:
            self.state.users[user_id] = {"id": user_id, "name": display_name.lower(),
                                         "profile": {"display_name": display_name},
                                         **({"locale": locale} if locale else {})}

    def set_history(self, channel: str, messages: list[dict[str, Any]]) -> None:
        """What conversations.history returns for ``channel`` (newest first, as Slack does)."""
        with self.state.lock:
            self.state.history[channel] = messages

    def response_url(self, name: str = "r1") -> str:
        return f"http://127.0.0.1:{self.port}/response/{name}"

    def redirect_url(self, to: str) -> str:
        """A response_url on this (allowed) origin that answers 302 to ``to``."""
        from urllib.parse import quote

        return f"http://127.0.0.1:{self.port}/redirect/r?to={quote(to, safe='')}"

    def reset(self) -> None:
        with self.state.lock:
            self.state.calls.clear()
            self.state.failures.clear()
            self.state.replies.clear()
            self.state.posted.clear()

    # -- reading ----------------------------------------------------------------------------------------
    def calls_in(self, channel: str, *methods: str) -> list[Call]:
        """Successful calls of ``methods`` (all when none given) addressed to ``channel`` (channel or channel_id)."""
        with self.state.lock:
            out = list(self.state.calls)
        return [c for c in out if (not methods or c.method in methods) and not c.params.get("_failed")
                and channel in (c.params.get("channel"), c.params.get("channel_id"))]

    def wait_until(self, predicate: Any, timeout: float = 30.0) -> list[Call]:
        """Block until ``predicate(all calls)`` is true (it may read this fake); returns the calls then."""
        deadline = time.monotonic() + timeout
        while True:
            with self.state.lock:
                calls = list(self.state.calls)
            if predicate(calls):  # outside the lock: the predicate may call calls_in()
                return calls
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"condition not met after {timeout} s ({len(calls)} calls)")
            with self.state.changed:
                if len(self.state.calls) == len(calls):
                    self.state.changed.wait(left)

    def calls(self, method: str | None = None, *, ok_only: bool = False) -> list[Call]:
        with self.state.lock:
            out = [c for c in self.state.calls if method is None or c.method == method]
        return [c for c in out if not c.params.get("_failed")] if ok_only else out

    def wait_for(self, method: str, count: int = 1, timeout: float = 20.0, *, ok_only: bool = True) -> list[Call]:
        """Block until ``count`` calls of ``method`` arrived (successful ones by default); then return them."""
        deadline = time.monotonic() + timeout
        with self.state.changed:
            while True:
                calls = [c for c in self.state.calls if c.method == method
                         and not (ok_only and c.params.get("_failed"))]
                if len(calls) >= count:
                    return calls
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{len(calls)} {method} call(s) after {timeout} s, wanted {count}")
                self.state.changed.wait(left)


@contextmanager
def fake_slack() -> Iterator[FakeSlack]:
    with FakeSlack() as slack:
        yield slack


# -- the other direction: Slack calling the bot ------------------------------------------------------
TEST_SIGNING_SECRET = "test-signing-secret-0000"


@dataclass
class Delivery:
    status: int
    body: bytes
    seconds: float


def sign(body: bytes, timestamp: int, secret: str = TEST_SIGNING_SECRET) -> str:
    """Slack's v0 request signature (https://api.slack.com/authentication/verifying-requests-from-slack)."""
    import hashlib
    import hmac

    base = f"v0:{timestamp}:".encode() + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def deliver(url: str, body: bytes, *, content_type: str = "application/json", secret: str | None = TEST_SIGNING_SECRET,
            timestamp: int | None = None, signature: str | None = None, retry_num: int | None = None,
            timeout: float = 10.0) -> Delivery:
    """POST a Slack request to the bot, signed like Slack does (or not: ``secret=None``)."""
    import urllib.error
    import urllib.request

    ts = int(time.time()) if timestamp is None else timestamp
    headers = {"content-type": content_type}
    if secret is not None:
        headers["x-slack-request-timestamp"] = str(ts)
        headers["x-slack-signature"] = signature or sign(body, ts, secret)
    if retry_num is not None:
        headers["x-slack-retry-num"] = str(retry_num)
        headers["x-slack-retry-reason"] = "http_timeout"
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    t0 = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return Delivery(resp.status, resp.read(), time.perf_counter() - t0)
    except urllib.error.HTTPError as exc:
        return Delivery(exc.code, exc.read(), time.perf_counter() - t0)


def event_body(event: dict[str, Any], event_id: str, team_id: str = TEAM_ID) -> bytes:
    """An Events API envelope around ``event``."""
    return json.dumps({"token": "unused", "team_id": team_id, "api_app_id": "A0TEST001", "type": "event_callback",
                       "event_id": event_id, "event_time": int(time.time()), "event": event}).encode()


def form_body(fields: dict[str, str]) -> bytes:
    from urllib.parse import urlencode

    return urlencode(fields).encode()
