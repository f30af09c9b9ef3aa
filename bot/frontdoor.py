"""The front door: a small asyncio HTTP/1.1 server (h11) that verifies, records and acknowledges.

Everything that reaches ``POST /slack/events`` goes through, in this order, each step cheap and bounded:

1. the request head (16 KiB at most, complete within ``header_timeout_s`` of connecting or of the last
   response), then method, path, ``Content-Length`` (413 at once above ``max_body``; 411 without it) and
   the two signature headers (401 at once when missing or outside Slack's five-minute window) — no
   body byte is read before these pass;
2. the body, into a buffer reserved from a global budget (503 when the budget is spent), complete
   within ``body_timeout_s``;
3. the HMAC over the raw bytes (``v0:timestamp:body``, constant-time compare; bodies over ``small_body``
   are hashed on a thread of their own, so a flood of large bodies does not hold the loop) — only then is anything
   parsed: JSON (depth errors are a 400) or a form with at most ``max_form_fields`` fields;
4. the claim of the event id (or, for slash commands and clicks, a hash of the signed timestamp and
   body, so a replay inside the signature window is dropped) — keys of its own (``door:…``) beside the
   ones the listeners claim — and the durable job, in one transaction, off the event loop;
5. the ack: an empty 200 (the url_verification challenge is answered here directly).

Nothing else: answering happens in worker processes that lease the jobs. The loop is uvloop's where it is
installed (a dependency on Linux and macOS; a burst of 220 signed events cost the front door 30 ms of CPU on
it, 39 ms on asyncio's own loop), else asyncio's. Rejected requests are not
logged one by one; one summary line a minute says how many were turned away and why. ``GET /healthz``
is answered on the same port from a cached snapshot computed off the loop, so a saturated event path
never fails a probe. Open connections are capped below the process's file limit; at the cap the
oldest connection that has not sent a complete request is dropped to make room, so a flood of idle
connections cannot lock Slack out.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import hashlib
import hmac
import json
import logging
import resource
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import parse_qsl

import h11

log = logging.getLogger("careerbot.frontdoor")
request_log = logging.getLogger("careerbot.requests")

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
SIGNATURE_WINDOW_S = 300  # Slack's: a request older (or newer) than five minutes is refused
CLAIM_TTL_S = 3600.0  # an event id is remembered this long (Slack retries within minutes)
JOB_KIND = "request"  # what the front door records: the verified request, answered by SlackBot._run_request
WRITE_BATCH = 256  # jobs recorded in one transaction at most
LINGER_S = 2.0  # after refusing a request whose body is still coming, read and drop it this long at most
LINGER_BYTES = 2_000_000  # ... and this much at most


@dataclass(frozen=True)
class Limits:
    max_body: int = 1_000_000  # Slack's largest payloads (big modal views) are well under this
    small_body: int = 64 * 1024  # events and commands are a few KiB: they draw on their own budget
    small_budget: int = 32 * 1024 * 1024  # bytes of small bodies being received at once, all connections
    large_budget: int = 8 * 1024 * 1024  # bytes of bodies over small_body being received at once (rare from Slack)
    max_header_bytes: int = 16 * 1024
    header_timeout_s: float = 10.0  # from connect (or the previous response) to a complete request head
    body_timeout_s: float = 10.0  # from the head to the last body byte
    max_connections: int = 4096  # also capped below RLIMIT_NOFILE
    max_in_flight: int = 1024  # verified requests waiting for the queue
    max_form_fields: int = 64
    summary_every_s: float = 60.0


class Sink(Protocol):
    """Where verified requests go (bot.state.State): claim the keys and record the job in one transaction.

    Returns the job id, or None when a claim was already held (a duplicate). A sink that also has
    ``enqueue_many`` gets the requests that arrived together in one call (one commit).
    """

    def enqueue(self, kind: str, payload: dict[str, Any], *, claims: Any = (),
                claim_ttl_s: float = CLAIM_TTL_S) -> str | None: ...


class Rejected(Exception):
    def __init__(self, status: int, reason: str, *, close: bool = False) -> None:
        super().__init__(reason)
        self.status, self.reason, self.close = status, reason, close


_REASONS = {200: b"OK", 400: b"Bad Request", 401: b"Unauthorized", 404: b"Not Found", 405: b"Method Not Allowed",
            408: b"Request Timeout", 411: b"Length Required", 413: b"Payload Too Large",
            415: b"Unsupported Media Type", 431: b"Request Header Fields Too Large", 500: b"Internal Server Error",
            503: b"Service Unavailable"}

_libc: Any = None


def _trim_heap() -> None:
    """Give freed body buffers back to the OS (glibc keeps them otherwise: RSS would stay at its peak)."""
    global _libc
    try:
        if _libc is None:
            _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        _libc.malloc_trim(0)
    except (OSError, AttributeError):
        _libc = False


def new_loop() -> asyncio.AbstractEventLoop:
    """uvloop's event loop when it is installed, else asyncio's (same protocol and transport API)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def connection_cap(wanted: int, reserve: int = 128) -> int:
    """``wanted``, lowered to fit the open-file limit (after raising the soft limit to the hard one)."""
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if hard == resource.RLIM_INFINITY or hard > soft:
            target = hard if hard != resource.RLIM_INFINITY else max(soft, wanted + reserve)
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
    except (ValueError, OSError):
        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    return max(16, min(wanted, int(soft) - reserve))


class _Conn(asyncio.Protocol):
    """One client connection: h11 parses, this enforces the limits and hands verified requests on."""

    def __init__(self, door: FrontDoor) -> None:
        self.door = door
        self.h11 = h11.Connection(h11.SERVER, max_incomplete_event_size=door.limits.max_header_bytes)
        self.transport: asyncio.Transport | None = None
        self.phase = "head"  # head -> body -> busy -> head ...
        self.timer: asyncio.TimerHandle | None = None
        self.body = bytearray()
        self.reserved = 0
        self.reserved_from = ""
        self.head: dict[str, Any] = {}
        self.closed = False
        self.lingered = 0

    # -- asyncio.Protocol --------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # asyncio's or uvloop's TCP transport
        self.door._opened(self)
        self._arm(self.door.limits.header_timeout_s)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._disarm()
        self._release_body()
        self.door._closed(self)

    def data_received(self, data: bytes) -> None:
        if self.closed:
            return
        if self.phase == "linger":  # answered and closing: drop what the client is still sending (bounded)
            self.lingered += len(data)
            if self.lingered > LINGER_BYTES:
                self._abort()
            return
        try:
            self.h11.receive_data(data)
        except h11.RemoteProtocolError:
            self._reject(Rejected(400, "bad_http", close=True))
            return
        self._pump()

    def eof_received(self) -> bool | None:
        try:
            self.h11.receive_data(b"")
        except h11.RemoteProtocolError:
            pass
        if self.phase == "linger":
            self._close()
        elif self.phase != "busy":
            self._abort()
            return None
        return True  # busy: the client half-closed after its request; keep the socket to answer it

    # -- parsing -------------------------------------------------------------------------------------
    def _pump(self) -> None:
        while not self.closed and self.phase != "busy":
            try:
                event = self.h11.next_event()
            except h11.RemoteProtocolError as exc:
                status = 431 if "too long" in str(exc).lower() or "too big" in str(exc).lower() else 400
                self._reject(Rejected(status, "bad_http", close=True))
                return
            if event is h11.NEED_DATA or event is h11.PAUSED:
                return
            if isinstance(event, h11.Request):
                try:
                    self._on_head(event)
                except Rejected as rej:
                    self._reject(rej)
                    return
            elif isinstance(event, h11.Data):
                if self.phase == "body":
                    self.body += event.data
            elif isinstance(event, h11.EndOfMessage):
                if self.phase == "body":
                    self._on_body_complete()
                return
            elif isinstance(event, h11.ConnectionClosed):
                self._abort()
                return

    def _on_head(self, req: h11.Request) -> None:
        door = self.door
        path = req.target.split(b"?", 1)[0]
        method = req.method
        headers: dict[str, str] = {}
        for name, value in req.headers:
            key = name.decode("latin-1")
            if key in ("content-type", "x-slack-signature", "x-slack-request-timestamp", "x-slack-retry-num",
                       "x-slack-retry-reason", "content-length", "transfer-encoding"):
                headers[key] = value.decode("latin-1")
        self.head = {"method": method, "path": path, "headers": headers}
        if path == HEALTH_PATH.encode():
            if method not in (b"GET", b"HEAD"):
                raise Rejected(405, "method", close=True)
            self._busy()
            door._spawn(self._health(method == b"HEAD"))
            return
        if path != EVENTS_PATH.encode():
            raise Rejected(404, "path", close=True)
        if method != b"POST":
            raise Rejected(405, "method", close=True)
        if door.draining:
            raise Rejected(503, "draining", close=True)
        if "transfer-encoding" in headers or "content-length" not in headers:
            raise Rejected(411, "no_length", close=True)
        length = int(headers["content-length"])  # h11 has checked it is a number
        if length > door.limits.max_body:
            raise Rejected(413, "too_large", close=True)
        timestamp = headers.get("x-slack-request-timestamp", "")
        signature = headers.get("x-slack-signature", "")
        if not (signature.startswith("v0=") and len(signature) == 67 and timestamp.isdigit() and len(timestamp) < 12
                and abs(time.time() - int(timestamp)) <= SIGNATURE_WINDOW_S):
            raise Rejected(401, "unsigned", close=True)
        if not door._reserve(self, length):
            raise Rejected(503, "body_budget", close=True)
        self.phase = "body"
        self._arm(door.limits.body_timeout_s)

    def _on_body_complete(self) -> None:
        door = self.door
        headers = self.head["headers"]
        ts, signature = headers["x-slack-request-timestamp"], headers["x-slack-signature"]
        if len(self.body) > door.limits.small_body:
            # A large body (rare from Slack; the shape of a flood): hashed on another thread, which releases the
            # GIL while it hashes, so the loop keeps acking small requests meanwhile. The budget stays reserved
            # until the hash is done, whatever becomes of the connection: queued hashes are bounded by it.
            body, pool, size = self.body, self.reserved_from, self.reserved
            self.body, self.reserved = bytearray(), 0
            self._busy()
            door._spawn(self._verify_large(ts, signature, body, pool, size))
            return
        raw = bytes(self.body)
        self._release_body()
        self._verified(raw if signature_ok(door.secret, ts, raw, signature) else None)

    async def _verify_large(self, ts: str, signature: str, body: bytearray, pool: str, size: int) -> None:
        door = self.door
        try:
            ok = await door.loop.run_in_executor(door._verifier, signature_ok, door.secret, ts, body, signature)
        except Exception:
            ok = False
        finally:
            door._unreserve(pool, size)
        self._verified(bytes(body) if ok else None)

    def _verified(self, raw: bytes | None) -> None:
        """Continue with a body whose signature was checked (``None``: it did not match)."""
        if raw is None:
            self._reject(Rejected(401, "bad_signature"))
            return
        if self.closed:
            return
        door = self.door
        headers = self.head["headers"]
        ts = headers["x-slack-request-timestamp"]
        self._busy()
        try:
            kind, keys, reply = _classify(raw, headers.get("content-type", ""), door.limits.max_form_fields, ts)
        except Rejected as rej:
            self._reject(rej)
            return
        if kind is None:
            door._count("accepted", "no_job")
            self._respond(200, reply or b"", b"application/json" if reply else b"text/plain")
            return
        if door._in_flight >= door.limits.max_in_flight:
            self._reject(Rejected(503, "busy"))
            return
        payload = {"body": raw.decode("utf-8"), "headers": {k: v for k, v in headers.items()
                                                            if k.startswith("x-slack-") or k == "content-type"}}
        door._spawn(self._record(kind, keys, payload))

    async def _record(self, kind: str, keys: list[str], payload: dict[str, Any]) -> None:
        door = self.door
        door._in_flight += 1
        try:
            job = await door._submit(JOB_KIND, keys, payload)
        except Exception as exc:  # the queue is down: Slack will retry a 503
            door._count("rejected", "queue_error")
            log.warning("queue write failed: %s", type(exc).__name__)
            self._respond(503, b"try again", close=True)
            return
        finally:
            door._in_flight -= 1
        if job is None:
            door._count("accepted", "duplicate")
            retry = payload["headers"].get("x-slack-retry-num")
            request_log.info(json.dumps({"kind": kind, "key": keys[0][:80], "outcome": "duplicate",
                                         **({"retry": retry} if retry else {})}))
        else:
            door._count("accepted", kind)
        self._respond(200, b"")

    async def _health(self, head_only: bool) -> None:
        code, body = await self.door._health_snapshot()
        data = json.dumps(body).encode()
        self._respond(code, b"" if head_only else data, b"application/json")

    # -- responding -----------------------------------------------------------------------------------
    def _busy(self) -> None:
        self.phase = "busy"
        self._disarm()
        if self.transport is not None:
            self.transport.pause_reading()

    def _reject(self, rej: Rejected) -> None:
        self.door._count("rejected", rej.reason)
        self._release_body()
        self._respond(rej.status, b"", close=rej.close)

    def _respond(self, status: int, body: bytes, ctype: bytes = b"text/plain", *, close: bool = False) -> None:
        if self.closed or self.transport is None:
            return
        headers = [(b"content-type", ctype), (b"content-length", str(len(body)).encode())]
        if close or self.door.draining:
            headers.append((b"connection", b"close"))
        try:
            out = self.h11.send(h11.Response(status_code=status, headers=headers, reason=_REASONS.get(status, b"")))
            out = (out or b"") + (self.h11.send(h11.Data(data=body)) or b"") if body else (out or b"")
            out = (out or b"") + (self.h11.send(h11.EndOfMessage()) or b"")
        except h11.LocalProtocolError:  # e.g. the client broke the protocol before we could answer
            self._abort()
            return
        self.transport.write(out)
        if self.h11.their_state is not h11.DONE and self.h11.their_state is not h11.ERROR:
            self._linger()  # the client may still be sending the body we refused: let it read our answer first
            return
        if close or self.h11.our_state is h11.MUST_CLOSE:
            self._close()
            return
        try:
            self.h11.start_next_cycle()
        except h11.LocalProtocolError:
            self._close()
            return
        self.phase = "head"
        self.head = {}
        self._arm(self.door.limits.header_timeout_s)
        self.transport.resume_reading()
        self.door._loop_call(self._pump)  # a pipelined request already buffered

    def _linger(self) -> None:
        """Half-close after answering; discard up to LINGER_BYTES for LINGER_S, then close (a lingering close)."""
        self.phase = "linger"
        self._release_body()
        if self.transport is None:
            return
        self.transport.resume_reading()
        try:
            if self.transport.can_write_eof():
                self.transport.write_eof()
        except OSError:
            self._abort()
            return
        self._disarm()
        self.timer = self.door.loop.call_later(LINGER_S, self._close)

    def _close(self) -> None:
        if self.transport is not None and not self.closed:
            self.transport.close()
        self.closed = True
        self._disarm()
        self._release_body()

    def _abort(self) -> None:
        if self.transport is not None and not self.closed:
            self.transport.abort()
        self.closed = True
        self._disarm()
        self._release_body()

    # -- timers and budget ----------------------------------------------------------------------------------
    def _arm(self, seconds: float) -> None:
        self._disarm()
        self.timer = self.door.loop.call_later(seconds, self._timed_out)

    def _disarm(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def _timed_out(self) -> None:
        self.timer = None
        if self.phase in ("busy", "linger") or self.closed:
            return
        started = self.phase == "body" or self.h11.their_state is not h11.IDLE or bool(self.h11.trailing_data[0])
        if started:
            self.door._count("rejected", "slow_" + self.phase)
        self._abort()

    def _release_body(self) -> None:
        if self.reserved:
            self.door._unreserve(self.reserved_from, self.reserved)
            self.reserved = 0
        if self.body:
            self.body = bytearray()

    @property
    def idle(self) -> bool:
        """Not yet sent a complete request head (an idle keep-alive or a slow client): evictable."""
        return self.phase == "head" and not self.closed


def _classify(raw: bytes, ctype: str, max_fields: int, timestamp: str) -> tuple[str | None, list[str], bytes | None]:
    """(job kind or None, claim keys, direct reply) for a verified body; Rejected(400) for what Slack never sends."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Rejected(400, "malformed") from None
    media = ctype.split(";", 1)[0].strip().lower()
    if media == "application/json":
        body = _json(text)
        if not _well_formed(body):
            raise Rejected(400, "malformed")
        if body.get("type") == "url_verification":
            challenge = body.get("challenge")
            if not isinstance(challenge, str) or len(challenge) > 1000:
                raise Rejected(400, "malformed")
            return None, [], json.dumps({"challenge": challenge}).encode()
        if body.get("type") == "event_callback":
            event = body.get("event") or {}
            event_id = body.get("event_id")
            if not isinstance(event_id, str) or not event_id or not event:
                raise Rejected(400, "malformed")
            if event.get("bot_id") or event.get("subtype") == "bot_message":
                return None, [], None  # our own posts and other bots': never answered
            keys = [f"door:ev:{event_id[:200]}"]
            if event.get("channel") and event.get("ts"):
                keys.append(f"door:msg:{event['channel'][:64]}:{event['ts'][:64]}")
            return "event", keys, None
        return None, [], None  # app_rate_limited and other notices: nothing to answer
    if media == "application/x-www-form-urlencoded":
        try:
            fields = dict(parse_qsl(text, keep_blank_values=True, max_num_fields=max_fields))
        except ValueError:
            raise Rejected(400, "malformed") from None
        if "payload" in fields:
            payload = _json(fields["payload"])
            if not _well_formed(payload):
                raise Rejected(400, "malformed")
            return "action", [f"door:act:{_signed_id(timestamp, raw)}"], None
        if "command" in fields:
            return "command", [f"door:cmd:{_signed_id(timestamp, raw)}"], None
        if fields.get("ssl_check"):
            return None, [], None
        raise Rejected(400, "malformed")
    raise Rejected(415, "media_type")


def signature_ok(secret: bytes, timestamp: str, body: bytes | bytearray, signature: str) -> bool:
    """Slack's v0 signature: HMAC-SHA256 of ``v0:timestamp:body``, compared in constant time (no copy of the body)."""
    mac = hmac.new(secret, b"v0:" + timestamp.encode() + b":", hashlib.sha256)
    mac.update(body)
    return hmac.compare_digest("v0=" + mac.hexdigest(), signature)


def _signed_id(timestamp: str, raw: bytes) -> str:
    """One id per signed request: Slack never signs two different requests with the same timestamp and body."""
    return hashlib.sha256(timestamp.encode() + b":" + raw).hexdigest()


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: [[[[… nested past the parser's depth
        raise Rejected(400, "malformed") from None


_OBJECT_FIELDS = ("event", "team", "user", "channel", "enterprise", "container", "message", "view")
_EVENT_TEXT_FIELDS = ("type", "user", "channel", "ts", "thread_ts", "text", "subtype", "channel_type", "bot_id",
                      "event_ts")


def _well_formed(body: Any) -> bool:
    """The shape bolt's middleware and our listeners rely on; anything else is a 400, never a 500."""
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


class FrontDoor:
    """The server: ``start()`` runs it on its own event-loop thread; ``stop()`` closes it."""

    def __init__(self, secret: str, sink: Sink, health: Callable[[], tuple[int, dict[str, Any]]], *,
                 host: str = "0.0.0.0", port: int = 3000, limits: Limits | None = None,
                 notify: Callable[[], None] | None = None) -> None:
        self.secret = secret.encode()
        self.sink = sink
        self.health = health
        self.limits = limits or Limits()
        self.host = host
        self.port = port
        self._notify = notify
        self.max_connections = connection_cap(self.limits.max_connections)
        self.draining = False
        self.loop = new_loop()
        self._server: asyncio.base_events.Server | None = None
        self._thread: threading.Thread | None = None
        self._conns: dict[_Conn, None] = {}  # insertion order: oldest first
        self._tasks: set[asyncio.Task[Any]] = set()
        self._budget = {"small": 0, "large": 0}
        self._received_since_trim = 0
        self._in_flight = 0
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="careerbot-queue")
        self._batch: list[tuple[str, list[str], dict[str, Any], asyncio.Future[str | None]]] = []
        self._writing = False
        self._checker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="careerbot-health")
        self._verifier = ThreadPoolExecutor(max_workers=1, thread_name_prefix="careerbot-verify")
        self._health_cache: tuple[float, tuple[int, dict[str, Any]]] | None = None
        self._health_pending: asyncio.Future[tuple[int, dict[str, Any]]] | None = None
        self.counts: Counter[str] = Counter()  # lifetime totals: "accepted:event", "rejected:unsigned", ...
        self._window: Counter[str] = Counter()
        self._ready = threading.Event()

    # -- lifecycle -------------------------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="careerbot-frontdoor", daemon=True)
        self._thread.start()
        self._ready.wait(30)
        if self._server is None:
            raise OSError(f"cannot listen on {self.host}:{self.port}")

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self._server = self.loop.run_until_complete(
                self.loop.create_server(lambda: _Conn(self), self.host, self.port, backlog=1024, reuse_address=True))
        except OSError as exc:
            log.error("cannot listen on %s:%s (%s)", self.host, self.port, exc.strerror or type(exc).__name__)
            self._ready.set()
            return
        self.port = int(self._server.sockets[0].getsockname()[1])
        self._spawn(self._summaries())
        self._ready.set()
        self.loop.run_forever()

    def stop(self) -> None:
        if self._thread is None or not self.loop.is_running():
            return

        async def close() -> None:
            if self._server is not None:
                self._server.close()
            for conn in list(self._conns):
                conn._abort()
            self._flush_summary()
            others = [t for t in self._tasks if t is not asyncio.current_task()]
            for task in others:
                task.cancel()
            if others:
                await asyncio.wait(others, timeout=2)
            self.loop.stop()

        asyncio.run_coroutine_threadsafe(close(), self.loop)
        self._thread.join(timeout=5)
        if not self._thread.is_alive():
            self.loop.close()
        self._writer.shutdown(wait=True, cancel_futures=False)
        self._checker.shutdown(wait=False, cancel_futures=True)
        self._verifier.shutdown(wait=False, cancel_futures=True)

    # -- recording: group commit ---------------------------------------------------------------------------
    def _submit(self, kind: str, keys: list[str], payload: dict[str, Any]) -> asyncio.Future[str | None]:
        """Queue one job for the writer; requests that arrive while a batch commits go in the next one."""
        fut: asyncio.Future[str | None] = self.loop.create_future()
        self._batch.append((kind, keys, payload, fut))
        if not self._writing:
            self._writing = True
            self._spawn(self._write_batches())
        return fut

    async def _write_batches(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._batch:
                batch, self._batch = self._batch[:WRITE_BATCH], self._batch[WRITE_BATCH:]
                items = [(kind, payload, keys) for kind, keys, payload, _ in batch]
                try:
                    results = await loop.run_in_executor(self._writer, self._write, items)
                except Exception as exc:
                    for *_, fut in batch:
                        if not fut.done():
                            fut.set_exception(exc)
                    continue
                for (*_, fut), result in zip(batch, results, strict=True):
                    if not fut.done():
                        fut.set_result(result)
                if any(r is not None for r in results):
                    self.notify()  # once per batch: the workers lease what was just recorded
        finally:
            self._writing = False

    def _write(self, items: list[tuple[str, dict[str, Any], list[str]]]) -> list[str | None]:
        many = getattr(self.sink, "enqueue_many", None)
        if callable(many):
            return list(many(items, claim_ttl_s=CLAIM_TTL_S))
        return [self.sink.enqueue(kind, payload, claims=keys, claim_ttl_s=CLAIM_TTL_S) for kind, payload, keys in items]

    def notify(self) -> None:
        if self._notify is not None:
            self._notify()

    # -- bookkeeping --------------------------------------------------------------------------------------
    def _spawn(self, coro: Any) -> None:
        task = self.loop.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _loop_call(self, fn: Callable[[], None]) -> None:
        self.loop.call_soon(fn)

    def _opened(self, conn: _Conn) -> None:
        self._conns[conn] = None
        if len(self._conns) > self.max_connections:
            victim = next((c for c in self._conns if c.idle and c is not conn), None)
            self._count("rejected", "connection_cap")
            (victim or conn)._abort()

    def _closed(self, conn: _Conn) -> None:
        self._conns.pop(conn, None)

    @property
    def connections(self) -> int:
        return len(self._conns)

    def _reserve(self, conn: _Conn, length: int) -> bool:
        pool = "small" if length <= self.limits.small_body else "large"
        cap = self.limits.small_budget if pool == "small" else self.limits.large_budget
        if self._budget[pool] + length > cap:
            return False
        self._budget[pool] += length
        conn.reserved, conn.reserved_from = length, pool
        self._received_since_trim += length
        return True

    def _unreserve(self, pool: str, length: int) -> None:
        self._budget[pool] -= length
        if self._budget["small"] == 0 and self._budget["large"] == 0 and self._received_since_trim > 8 * 1024 * 1024:
            self._received_since_trim = 0
            _trim_heap()

    def _count(self, outcome: str, reason: str) -> None:
        self.counts[f"{outcome}:{reason}"] += 1
        if outcome == "rejected":
            self._window[reason] += 1

    def stats(self) -> dict[str, Any]:
        return {"connections": len(self._conns), "in_flight": self._in_flight, "budget": dict(self._budget),
                "counts": dict(self.counts)}

    async def _summaries(self) -> None:
        while True:
            await asyncio.sleep(self.limits.summary_every_s)
            self._flush_summary()
            if self._received_since_trim:
                _trim_heap()
                self._received_since_trim = 0

    def _flush_summary(self) -> None:
        if not self._window:
            return
        counts, self._window = dict(self._window), Counter()
        request_log.info(json.dumps({"kind": "http", "outcome": "rejected", "window_s": self.limits.summary_every_s,
                                     "total": sum(counts.values()), "reasons": counts}))

    async def _health_snapshot(self) -> tuple[int, dict[str, Any]]:
        now = time.monotonic()
        if self._health_cache is not None and now - self._health_cache[0] < 1.0:
            code, body = self._health_cache[1]
        else:
            if self._health_pending is None or self._health_pending.done():
                self._health_pending = asyncio.ensure_future(
                    self.loop.run_in_executor(self._checker, self.health))
            try:
                code, body = await asyncio.wait_for(asyncio.shield(self._health_pending), timeout=2.0)
                self._health_cache = (time.monotonic(), (code, body))
            except TimeoutError:
                code, body = 503, {"status": "degraded", "detail": "health check timed out"}
            except Exception as exc:
                code, body = 503, {"status": "degraded", "detail": type(exc).__name__}
        if self.draining:
            code, body = 503, {**body, "status": "draining"}
        return code, {**body, "frontdoor": self.stats()}
