"""Per-user question limit (CAREERBOT_RATE_LIMIT_PER_MINUTE), a sliding one-minute window.

Keeps one person from starving the worker pool; over the limit they get a polite notice.
"""

from __future__ import annotations

import threading
import time
from collections import deque


class RateLimiter:
    def __init__(self, per_minute: int, window_s: float = 60.0, max_users: int = 50_000) -> None:
        self.per_minute = per_minute
        self.window_s = window_s
        self.max_users = max_users
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, user: str | None) -> bool:
        """Count one question for ``user``; False when they are over the limit (not counted)."""
        if self.per_minute <= 0 or not user:
            return True
        now = time.monotonic()
        with self._lock:
            hits = self._hits.setdefault(user, deque())
            while hits and now - hits[0] > self.window_s:
                hits.popleft()
            if len(hits) >= self.per_minute:
                return False
            hits.append(now)
            if len(self._hits) > self.max_users:
                self._prune(now)
        return True

    def _prune(self, now: float) -> None:
        for user in [u for u, h in self._hits.items() if not h or now - h[-1] > self.window_s]:
            del self._hits[user]
