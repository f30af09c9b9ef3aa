"""Per-user question limit (CAREERBOT_RATE_LIMIT_PER_MINUTE), a sliding one-minute window.

Keeps one person from starving the workers. Over the limit they get one polite notice per
window and per surface (a channel post, or an ephemeral slash-command reply), then silence until
the window has room again — forty mentions in two seconds cost ten answers and one notice, not thirty
notices.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from enum import Enum


class Verdict(Enum):
    ALLOW = "allow"  # answer it
    NOTIFY = "notify"  # over the limit: tell them once
    SILENT = "silent"  # over the limit, already told in this window


class RateLimiter:
    def __init__(self, per_minute: int, window_s: float = 60.0, max_users: int = 50_000) -> None:
        self.per_minute = per_minute
        self.window_s = window_s
        self.max_users = max_users
        self._hits: dict[str, deque[float]] = {}
        self._told: dict[tuple[str, str], float] = {}  # (user, surface) -> told until
        self._lock = threading.Lock()

    def allow(self, user: str | None) -> bool:
        """Count one question for ``user``; False when they are over the limit (not counted)."""
        return self.check(user) is Verdict.ALLOW

    def check(self, user: str | None, surface: str = "message") -> Verdict:
        """Count one question; over the limit, NOTIFY once per window and surface, then SILENT."""
        if self.per_minute <= 0 or not user:
            return Verdict.ALLOW
        now = time.monotonic()
        with self._lock:
            hits = self._hits.setdefault(user, deque())
            while hits and now - hits[0] > self.window_s:
                hits.popleft()
            if len(hits) >= self.per_minute:
                key = (user, surface)
                if self._told.get(key, 0.0) > now:
                    return Verdict.SILENT
                self._told[key] = hits[0] + self.window_s  # silent until the window has room again
                return Verdict.NOTIFY
            hits.append(now)
            if len(self._hits) > self.max_users or len(self._told) > self.max_users:
                self._prune(now)
        return Verdict.ALLOW

    def _prune(self, now: float) -> None:
        for user in [u for u, h in self._hits.items() if not h or now - h[-1] > self.window_s]:
            del self._hits[user]
        for key in [k for k, until in self._told.items() if until <= now]:
            del self._told[key]
