"""A scriptable OpenAI-compatible HTTP server on 127.0.0.1 (port 0), run in a thread.

Tests talk to it through the real openai client (``base_url=server.url``), so retries,
timeouts, headers and JSON parsing are exercised for real. Replies are taken from a
script (FIFO) and then from ``default``; every request is recorded.

    with FakeOpenAI() as server:
        server.push(Reply.error(429, retry_after=1), Reply.chat("Customer service is at risk [1]."))
        client = OpenAI(api_key="sk-test-0000", base_url=server.url, max_retries=0)

Streaming (``stream: true`` requests): ``Reply.stream(pieces)`` answers with server-sent events,
one chunk per piece, chunked transfer encoding. ``hold=threading.Event(), hold_after=2`` makes it
wait for the test's event after two pieces (so a test can see the first text arrive before the
model finishes, without sleeping); ``cut_after=2`` drops the connection after two pieces, in the
middle of the body, as a dying upstream does.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # dict/list -> JSON, str/bytes -> sent as is
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to sleep before answering (for timeouts)
    pieces: list[str] | None = None  # a streamed reply (server-sent events), one chunk per piece
    hold: threading.Event | None = None  # streamed: wait for this event ...
    hold_after: int = 0  # ... after this many pieces
    cut_after: int | None = None  # streamed: drop the connection after this many pieces

    @classmethod
    def stream(cls, pieces: list[str], *, hold: threading.Event | None = None, hold_after: int = 0,
               cut_after: int | None = None) -> Reply:
        """A ``stream: true`` chat completion sent as server-sent events."""
        return cls(200, None, pieces=list(pieces), hold=hold, hold_after=hold_after, cut_after=cut_after)

    @classmethod
    def chat(cls, content: str | None, *, model: str = "fake-model", delay: float = 0.0) -> Reply:
        """A normal chat.completion with ``content`` as the assistant message."""
        return cls(
            200,
            {
                "id": "chatcmpl-fake",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": content},
                        "finish_reason": "stop",
                        "logprobs": None,
                    }
                ],
                "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
            },
            delay=delay,
        )

    @classmethod
    def error(cls, status: int, *, retry_after: float | str | None = None, message: str = "fake error") -> Reply:
        headers = {} if retry_after is None else {"Retry-After": str(retry_after)}
        return cls(status, {"error": {"message": message, "type": "fake", "code": None}}, headers)

    @classmethod
    def malformed(cls) -> Reply:
        """A 200 whose body is not JSON."""
        return cls(200, '{"id": "chatcmpl-fake", "choices": [ {"message": ', {"Content-Type": "application/json"})

    @classmethod
    def empty(cls) -> Reply:
        return cls.chat("")


Responder = Callable[[dict[str, Any]], Reply]


class FakeOpenAI:
    """The server. ``default`` (a Reply or a function of the request JSON) answers once the script is empty."""

    def __init__(self, default: Reply | Responder | None = None) -> None:
        self.script: deque[Reply | Responder] = deque()
        self.default: Reply | Responder = default or Reply.chat("I can't tell from the sources.")
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- control ---------------------------------------------------------------------
    def push(self, *replies: Reply | Responder) -> None:
        with self._lock:
            self.script.extend(replies)

    @property
    def port(self) -> int:
        assert self._server is not None, "server not started"
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def chat_requests(self) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["path"].endswith("/chat/completions")]

    def start(self) -> FakeOpenAI:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server naming
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    payload = json.loads(raw or b"{}")
                except ValueError:
                    payload = {"_raw": raw.decode("utf-8", "replace")}
                record = {
                    "path": self.path,
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "json": payload,
                    "time": time.monotonic(),
                }
                with fake._lock:
                    fake.requests.append(record)
                    if self.path.endswith("/embeddings"):
                        item: Reply | Responder = _embeddings
                    else:
                        item = fake.script.popleft() if fake.script else fake.default
                reply = item(payload) if callable(item) else item
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.pieces is not None:
                    self._stream(reply)
                    return
                if isinstance(reply.body, (dict, list)):
                    body = json.dumps(reply.body).encode()
                elif isinstance(reply.body, str):
                    body = reply.body.encode()
                else:
                    body = reply.body or b""
                try:
                    self.send_response(reply.status)
                    headers = {"Content-Type": "application/json", **reply.headers}
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):  # client gave up (timeout test)
                    pass

            def _chunk(self, data: bytes) -> None:
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.flush()

            def _event(self, delta: dict[str, Any], finish: str | None = None) -> None:
                body = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": int(time.time()),
                        "model": "fake-model",
                        "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}]}
                self._chunk(f"data: {json.dumps(body)}\n\n".encode())

            def _stream(self, reply: Reply) -> None:
                pieces = reply.pieces or []
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "text/event-stream")
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    self._event({"role": "assistant", "content": ""})
                    for i, piece in enumerate(pieces):
                        if reply.cut_after is not None and i == reply.cut_after:
                            self.close_connection = True  # mid-body: no last chunk, no [DONE]
                            self.connection.shutdown(2)
                            return
                        if reply.hold is not None and i == reply.hold_after:
                            reply.hold.wait(30)
                        self._event({"content": piece})
                    self._event({}, finish="stop")
                    self._chunk(b"data: [DONE]\n\n")
                    self.wfile.write(b"0\r\n\r\n")
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError, OSError):
                    self.close_connection = True

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-openai", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _embeddings(payload: dict[str, Any]) -> Reply:
    """Deterministic 32-dim vectors from a hash of each input (enough for plumbing tests)."""
    inputs = payload.get("input") or []
    if isinstance(inputs, str):
        inputs = [inputs]
    data = []
    for i, text in enumerate(inputs):
        digest = hashlib.sha256(str(text).encode()).digest()
        vec = [(b - 128) / 128.0 for b in digest]
        data.append({"object": "embedding", "index": i, "embedding": vec})
    return Reply(200, {"object": "list", "data": data, "model": payload.get("model", "fake"),
                       "usage": {"prompt_tokens": 1, "total_tokens": 1}})
