"""A small website on a free loopback port: pages, a sitemap, redirects, slow and huge responses.

Pages answer conditional requests (ETag / Last-Modified → 304) and every request is recorded with its
headers, so a test can see what careerbot asked for. A "slow" route holds its response until the server
stops (no sleeps); a "huge" route streams ``size`` bytes without a Content-Length.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    location: str | None = None  # redirects
    slow: bool = False  # never answers until the server stops
    huge: int = 0  # stream this many bytes, no Content-Length
    validators: bool = True  # send ETag and Last-Modified, answer 304 to a matching conditional GET


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    status: int = 0


@dataclass
class WebServer:
    routes: dict[str, Route] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._release = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def base(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host.decode() if isinstance(host, bytes) else host}:{port}"

    def url(self, path: str) -> str:
        return self.base + path

    def requests_for(self, path: str) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def start(self) -> WebServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                req = Request(self.path, {k.lower(): v for k, v in self.headers.items()})
                with server._lock:
                    server.requests.append(req)
                route = server.routes.get(self.path)
                if route is None:
                    req.status = 404
                    self._send(404, b"<html><body><h1>Not found</h1></body></html>", "text/html")
                    return
                if route.slow:
                    server._release.wait(30)
                    return
                if route.location is not None:
                    req.status = route.status
                    self.send_response(route.status)
                    self.send_header("Location", route.location)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if route.huge:
                    req.status = 200
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html")
                    self.end_headers()
                    piece = b"<p>" + b"x" * 65_530 + b"</p>"
                    sent = 0
                    try:
                        while sent < route.huge and not server._release.is_set():
                            self.wfile.write(piece)
                            sent += len(piece)
                    except (BrokenPipeError, ConnectionResetError):
                        pass  # the client stopped reading at its cap
                    return
                etag = '"' + hashlib.sha256(route.body).hexdigest()[:16] + '"'
                modified = "Mon, 30 Nov 2026 10:00:00 GMT"
                if route.validators and (
                    self.headers.get("If-None-Match") == etag or (
                        self.headers.get("If-None-Match") is None and self.headers.get("If-Modified-Since") == modified
                    )
                ):
                    req.status = 304
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return
                req.status = route.status
                extra = {"ETag": etag, "Last-Modified": modified} if route.validators else {}
                self._send(route.status, route.body, route.content_type, extra)

            def _send(self, status: int, body: bytes, content_type: str, extra: dict[str, str] | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                for k, v in (extra or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def __enter__(self) -> WebServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
