"""The client side of bench_slack: one process, one thread, raw sockets — it costs little of the CPU it measures.

    python benchmarks/burst_client.py < SPEC.json > RESULT.json

SPEC: ``{"host", "port", "mode": "burst" | "serial", "requests": [raw HTTP request as latin-1 text, ...],
"gap_s": 0.05}``. The requests are built (and signed) before anything is sent.

- ``burst``: opens one connection per request first, waits until the server reports them all accepted
  (``GET /healthz`` → ``frontdoor.connections``; a load balancer's keep-alive pool looks like this to the
  server), then writes every request in one tight loop and reads the responses with ``selectors``.
- ``serial``: one request at a time on a fresh connection (connect included), ``gap_s`` apart.

Each latency is end to end from the client's view: from just before the request's first byte is written
(for ``serial``: before the connect) to the moment its whole response has been read. RESULT:
``{"acks": [[status, ms], ...], "spread_ms": time from the first write to the last write, "burst_at":
time.monotonic() at the first write}`` (acks in request order);
status -1 for a connection that failed or did not answer within 30 s.
"""

from __future__ import annotations

import json
import selectors
import socket
import sys
import time
from typing import Any

TIMEOUT_S = 30.0


def _complete(buf: bytes) -> int | None:
    """The status code once ``buf`` holds a whole response (head and Content-Length bytes of body)."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return None
    head = buf[:end].decode("latin-1").split("\r\n")
    length = 0
    for line in head[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    if len(buf) - end - 4 < length:
        return None
    return int(head[0].split()[1])


def _connections(host: str, port: int) -> int:
    with socket.create_connection((host, port), timeout=5) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nhost: bench\r\nconnection: close\r\n\r\n")
        buf = b""
        while chunk := s.recv(65536):
            buf += chunk
    body = json.loads(buf.split(b"\r\n\r\n", 1)[1] or b"{}")
    return int(body.get("frontdoor", {}).get("connections", 0))


def burst(host: str, port: int, requests: list[bytes]) -> dict[str, Any]:
    socks = []
    for _ in requests:
        s = socket.create_connection((host, port), timeout=10)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        socks.append(s)
    deadline = time.monotonic() + 10
    while _connections(host, port) < len(socks) + 1 and time.monotonic() < deadline:  # +1: the probe itself
        time.sleep(0.02)
    time.sleep(0.05)
    sent = [0.0] * len(socks)
    done: list[tuple[int, float]] = [(-1, float("nan"))] * len(socks)
    bufs = [b""] * len(socks)
    sel = selectors.DefaultSelector()
    for i, s in enumerate(socks):
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, i)
    burst_at = time.monotonic()
    for i, (s, req) in enumerate(zip(socks, requests, strict=True)):
        sent[i] = time.perf_counter()
        s.sendall(req)  # a few KiB: fits the socket buffer, never blocks for long
    spread = time.perf_counter() - sent[0]
    left = len(socks)
    end = time.monotonic() + TIMEOUT_S
    while left and time.monotonic() < end:
        for key, _ in sel.select(timeout=1.0):
            i = key.data
            s = socks[i]
            try:
                chunk = s.recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                chunk = b""
            now = time.perf_counter()
            bufs[i] += chunk
            status = _complete(bufs[i])
            if status is not None or not chunk:
                done[i] = (status if status is not None else -1, (now - sent[i]) * 1000 if status else float("nan"))
                sel.unregister(s)
                left -= 1
    for s in socks:
        s.close()
    return {"acks": done, "spread_ms": spread * 1000, "burst_at": burst_at}


def serial(host: str, port: int, requests: list[bytes], gap_s: float) -> dict[str, Any]:
    done: list[tuple[int, float]] = []
    for req in requests:
        t0 = time.perf_counter()
        try:
            with socket.create_connection((host, port), timeout=TIMEOUT_S) as s:
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                s.sendall(req)
                buf = b""
                status = None
                while status is None:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    buf += chunk
                    status = _complete(buf)
            done.append((status, (time.perf_counter() - t0) * 1000) if status else (-1, float("nan")))
        except OSError:
            done.append((-1, float("nan")))
        time.sleep(gap_s)
    return {"acks": done, "spread_ms": 0.0}


def main() -> None:
    spec = json.load(sys.stdin)
    requests = [r.encode("latin-1") for r in spec["requests"]]
    if spec.get("mode") == "serial":
        result = serial(spec["host"], int(spec["port"]), requests, float(spec.get("gap_s", 0.05)))
    else:
        result = burst(spec["host"], int(spec["port"]), requests)
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
