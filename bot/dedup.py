"""Exactly-once delivery: remember event ids (and message keys) for a while.

Slack retries an event it thinks was not acknowledged (same ``event_id``, an ``X-Slack-Retry-Num``
header), and one message can arrive as both ``app_mention`` and ``message.im``. A bounded TTL set
answers "seen it already?" atomically. It is per process: with several replicas behind a load
balancer a retry can reach a replica that never saw the first delivery (see README, production).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict


class SeenCache:
    """A set with expiry and a size bound; ``check_and_add`` is atomic."""

    def __init__(self, ttl_s: float = 3600.0, maxsize: int = 20_000) -> None:
        self.ttl_s = ttl_s
        self.maxsize = maxsize
        self._items: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def check_and_add(self, *keys: str | None) -> bool:
        """True when any key was seen within the TTL; otherwise remember them all and return False."""
        live = [k for k in keys if k]
        now = time.monotonic()
        with self._lock:
            self._expire(now)
            if any(k in self._items for k in live):
                return True
            for k in live:
                self._items[k] = now
                self._items.move_to_end(k)
            while len(self._items) > self.maxsize:
                self._items.popitem(last=False)
        return False

    def _expire(self, now: float) -> None:
        while self._items:
            key, at = next(iter(self._items.items()))
            if now - at <= self.ttl_s:
                break
            self._items.popitem(last=False)

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)
