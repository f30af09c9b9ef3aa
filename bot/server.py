"""Serving the Slack app: a waitress WSGI server (HTTP mode) or a Socket Mode connection.

HTTP mode routes ``POST /slack/events`` (events, slash commands, interactivity) to bolt's
``App.dispatch`` — signature checks included — and answers ``GET /healthz`` from cached,
bounded checks, so a load balancer's probe never waits on Chroma or the LLM. SIGTERM flips the
server to draining (new requests get 503, /healthz says so), lets the worker pool finish the
answers it accepted (bounded), then exits 0.
"""

from __future__ import annotations

import json
import logging
import signal
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from slack_bolt.request import BoltRequest

from .slack_app import SlackBot

log = logging.getLogger("careerbot.server")
request_log = logging.getLogger("careerbot.requests")

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
MAX_BODY = 1_000_000
DRAIN_TIMEOUT_S = 20.0
_REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 405: "Method Not Allowed",
            413: "Payload Too Large", 500: "Internal Server Error", 503: "Service Unavailable"}


class Health:
    """What /healthz reports: store reachable, embedder id, LLM configured — cached, never slow."""

    def __init__(self, bot: SlackBot, mode: str, *, ttl_s: float = 5.0, check_timeout_s: float = 1.0) -> None:
        self.bot = bot
        self.mode = mode
        self.ttl_s = ttl_s
        self.check_timeout_s = check_timeout_s
        self._checker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="careerbot-health")
        self._pending: Any = None
        self._store: dict[str, Any] = {"ok": False, "detail": "not checked yet"}
        self._checked_at = 0.0
        self._lock = threading.Lock()
        self.draining = False

    def _check_store(self) -> dict[str, Any]:
        kb = getattr(self.bot.pipeline, "kb", None)
        if kb is None:
            return {"ok": False, "detail": "no knowledge base"}
        try:
            chunks = int(kb.store.count())
        except Exception as exc:
            return {"ok": False, "detail": type(exc).__name__}
        return {"ok": chunks > 0, "chunks": chunks, "kind": "server" if self.bot.settings.chroma_host else "embedded"}

    def store(self) -> dict[str, Any]:
        with self._lock:
            if time.monotonic() - self._checked_at < self.ttl_s:
                return self._store
            if self._pending is None or self._pending.done():
                self._pending = self._checker.submit(self._check_store)
            pending = self._pending
        try:
            result = pending.result(timeout=self.check_timeout_s)
        except FutureTimeout:
            result = {"ok": False, "detail": "store check timed out"}
        with self._lock:
            self._store, self._checked_at = result, time.monotonic()
        return result

    def snapshot(self) -> tuple[int, dict[str, Any]]:
        settings = self.bot.settings
        kb = getattr(self.bot.pipeline, "kb", None)
        embedder = getattr(getattr(kb, "embedder", None), "id", None)
        store = self.store()
        status = "draining" if self.draining else ("ok" if store.get("ok") else "degraded")
        body = {
            "status": status,
            "mode": self.mode,
            "store": store,
            "embedder": embedder,
            "llm": {"configured": settings.llm_enabled, "model": settings.chat_model if settings.llm_enabled else None},
            "queue": {"pending": self.bot.pool.pending},
        }
        return (200 if status == "ok" else 503), body


class WSGIApp:
    """The WSGI callable waitress serves."""

    def __init__(self, bot: SlackBot, health: Health) -> None:
        self.bot = bot
        self.health = health
        self._in_flight = 0
        self._lock = threading.Lock()

    @property
    def in_flight(self) -> int:
        with self._lock:
            return self._in_flight

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        with self._lock:
            self._in_flight += 1
        try:
            status, headers, body = self._handle(environ)
        except Exception as exc:  # never a traceback to the client
            log.error("request failed: %s", type(exc).__name__, exc_info=self.bot.settings.debug)
            status, headers, body = 500, {"content-type": "text/plain"}, b"internal error"
        finally:
            with self._lock:
                self._in_flight -= 1
        start_response(f"{status} {_REASONS.get(status, 'Status')}",
                       [(k, v) for k, v in headers.items()] + [("content-length", str(len(body)))])
        return [body]

    def _handle(self, environ: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
        t0 = time.perf_counter()
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "/")
        if path == HEALTH_PATH:
            if method not in ("GET", "HEAD"):
                return 405, {"content-type": "text/plain"}, b"method not allowed"
            code, data = self.health.snapshot()
            return code, {"content-type": "application/json"}, json.dumps(data).encode()
        if path != EVENTS_PATH:
            return 404, {"content-type": "text/plain"}, b"not found"
        if method != "POST":
            return 405, {"content-type": "text/plain"}, b"method not allowed"
        if self.health.draining:
            _log_http(t0, 503, "draining")
            return 503, {"content-type": "text/plain", "retry-after": "5"}, b"shutting down"
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return 400, {"content-type": "text/plain"}, b"bad content-length"
        if length > MAX_BODY:
            _log_http(t0, 413, "too_large")
            return 413, {"content-type": "text/plain"}, b"too large"
        raw = environ["wsgi.input"].read(length) if length > 0 else b""
        headers: dict[str, str | Sequence[str]] = {}
        for key, value in environ.items():
            if key.startswith("HTTP_"):
                headers[key[5:].lower().replace("_", "-")] = value
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = environ["CONTENT_TYPE"]
        try:
            req = BoltRequest(body=raw.decode("utf-8"), query=environ.get("QUERY_STRING", ""), headers=headers)
        except (UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError, json.JSONDecodeError):
            _log_http(t0, 400, "malformed")
            return 400, {"content-type": "text/plain"}, b"malformed request"
        if not _well_formed(req.body):
            _log_http(t0, 400, "malformed")
            return 400, {"content-type": "text/plain"}, b"malformed request"
        resp = self.bot.app.dispatch(req)
        out_headers = {k: (v[0] if isinstance(v, list) and v else str(v)) for k, v in resp.headers.items()}
        out_headers.setdefault("content-type", "text/plain;charset=utf-8")
        if resp.status >= 300:
            _log_http(t0, resp.status, "rejected" if resp.status == 401 else "unhandled")
        body = resp.body if isinstance(resp.body, bytes) else str(resp.body or "").encode()
        return resp.status, out_headers, body


_OBJECT_FIELDS = ("event", "team", "user", "channel", "enterprise", "container", "message", "view")
_EVENT_TEXT_FIELDS = ("type", "user", "channel", "ts", "thread_ts", "text", "subtype", "channel_type", "bot_id",
                      "event_ts")


def _well_formed(body: Any) -> bool:
    """The shape bolt's middleware and our listeners rely on; anything else is a 400, never a 500.

    Slack never sends other shapes, but a broken client or a fuzzer does, and bolt then fails inside
    its middleware (a 500 and an error log line) or our listener raises on a non-string field.
    """
    if not isinstance(body, dict):
        return False
    for key in _OBJECT_FIELDS:
        if body.get(key) is not None and not isinstance(body[key], dict):
            return False
    for key in ("authorizations", "actions"):
        value = body.get(key)
        if value is not None and not (isinstance(value, list) and all(isinstance(v, dict) for v in value)):
            return False
    if body.get("type") == "block_actions":  # bolt's action matcher reads actions[0]["action_id"]
        actions = body.get("actions")
        if not actions or not all(isinstance(a.get("action_id"), str) for a in actions):
            return False
    event = body.get("event")
    if isinstance(event, dict):
        for key in _EVENT_TEXT_FIELDS:
            if event.get(key) is not None and not isinstance(event[key], str):
                return False
    return True


def _log_http(t0: float, status: int, outcome: str) -> None:
    request_log.info(json.dumps({"kind": "http", "status": status, "outcome": outcome,
                                 "latency_ms": round((time.perf_counter() - t0) * 1000, 1)}))


class HTTPServer:
    """waitress around ``WSGIApp``; ``start`` runs it in a thread, ``stop`` drains and closes."""

    def __init__(self, bot: SlackBot, host: str = "0.0.0.0", port: int = 3000, *, threads: int = 8) -> None:
        from waitress.server import create_server

        self.bot = bot
        self.health = Health(bot, "http")
        self.wsgi = WSGIApp(bot, self.health)
        self._server: Any = create_server(self.wsgi, host=host, port=port, threads=threads,
                                          ident="careerbot", connection_limit=1000, backlog=1024)
        self.host = host
        self.port: int = int(self._server.effective_port)
        self._thread: threading.Thread | None = None
        self._stopping = False

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="careerbot-http", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._server.run()
        except (OSError, ValueError):
            if not self._stopping:  # closing the sockets under select() is how the loop ends
                raise

    def stop(self, drain_timeout_s: float = DRAIN_TIMEOUT_S) -> bool:
        """503 for new requests, finish accepted answers (bounded), then close the listener."""
        self.health.draining = True
        deadline = time.monotonic() + drain_timeout_s
        finished = self.bot.shutdown(drain_timeout_s)
        while self.wsgi.in_flight and time.monotonic() < deadline:
            time.sleep(0.05)
        self._stopping = True
        try:
            for dispatcher in list(self._server._map.values()):  # the listener, open connections, the trigger
                dispatcher.close()
            self._server.task_dispatcher.shutdown(timeout=2)
        except Exception as exc:  # closing a socket that is already gone
            log.debug("server close: %s", type(exc).__name__)
        if self._thread is not None:
            self._thread.join(timeout=3)
        return finished


def wait_for_signal(stop: threading.Event | None = None) -> threading.Event:
    """Install SIGTERM/SIGINT handlers that set ``stop`` (main thread only)."""
    stop = stop or threading.Event()

    def handler(signum: int, _frame: Any) -> None:
        log.info(json.dumps({"kind": "lifecycle", "signal": signal.Signals(signum).name, "outcome": "draining"}))
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
    return stop


def run_http(bot: SlackBot, host: str, port: int, *, on_ready: Callable[[HTTPServer], None] | None = None,
             drain_timeout_s: float = DRAIN_TIMEOUT_S) -> int:
    """Serve until SIGTERM/SIGINT, then drain; returns the exit status (0)."""
    stop = wait_for_signal()
    server = HTTPServer(bot, host, port)
    server.start()
    if on_ready:
        on_ready(server)
    while not stop.wait(0.5):
        pass
    finished = server.stop(drain_timeout_s)
    log.info(json.dumps({"kind": "lifecycle", "outcome": "stopped", "drained": finished}))
    return 0


def run_socket_mode(bot: SlackBot, app_token: str, *, on_ready: Callable[[], None] | None = None,
                    drain_timeout_s: float = DRAIN_TIMEOUT_S) -> int:
    """Socket Mode: the same listeners over a WebSocket Slack opens to us (no public URL needed)."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    stop = wait_for_signal()
    handler = SocketModeHandler(bot.app, app_token)
    handler.connect()
    if on_ready:
        on_ready()
    while not stop.wait(0.5):
        pass
    bot.pool.stop_accepting()
    try:
        handler.close()
    except Exception as exc:
        log.debug("socket mode close: %s", type(exc).__name__)
    finished = bot.shutdown(drain_timeout_s)
    log.info(json.dumps({"kind": "lifecycle", "outcome": "stopped", "drained": finished}))
    return 0


class SecretFilter(logging.Filter):
    """Replaces any configured secret value in a log line with ***, whoever logged it."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        try:
            message = record.getMessage()
        except Exception:
            return True
        cleaned = message
        for secret in self.secrets:
            cleaned = cleaned.replace(secret, "***")
        if cleaned != message or record.exc_info:
            if record.exc_info:
                text = logging.Formatter().formatException(record.exc_info)
                for secret in self.secrets:
                    text = text.replace(secret, "***")
                cleaned = f"{cleaned}\n{text}"
                record.exc_info = None
                record.exc_text = None
            record.msg, record.args = cleaned, None
        return True


def configure_logging(level: str, secrets: list[str]) -> None:
    """Root level from CAREERBOT_LOG_LEVEL; Slack SDK debug output (it prints auth headers) never below INFO."""
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(format="%(message)s")
    root.setLevel(getattr(logging, level.upper(), logging.INFO))
    for noisy in ("slack_sdk", "slack_bolt", "urllib3", "httpx", "httpcore", "openai", "chromadb", "waitress"):
        logger = logging.getLogger(noisy)
        if logger.getEffectiveLevel() < logging.INFO or root.level < logging.INFO:
            logger.setLevel(logging.INFO if noisy in ("waitress",) else logging.WARNING)
    scrub = SecretFilter(secrets)
    for handler in root.handlers:
        handler.filters = [f for f in handler.filters if not isinstance(f, SecretFilter)]
        handler.addFilter(scrub)
