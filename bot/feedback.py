"""👍/👎 votes on answers, kept in SQLite under CAREERBOT_DATA_DIR.

Each posted answer gets a short id (the button's value) and a row with its question and text, so
a click — which carries only the id — can be stored as (user, question, answer, vote, time).
One vote per user per answer: changing your mind replaces the vote.
"""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    id TEXT PRIMARY KEY, user TEXT, channel TEXT, question TEXT, answer TEXT,
    mode TEXT, refused INTEGER, created REAL
);
CREATE TABLE IF NOT EXISTS votes (
    answer_id TEXT, user TEXT, question TEXT, answer TEXT, vote TEXT, created REAL,
    PRIMARY KEY (answer_id, user)
);
"""


@dataclass(frozen=True)
class Vote:
    answer_id: str
    user: str
    question: str | None
    answer: str | None
    vote: str  # "up" | "down"
    created: float


class FeedbackStore:
    """Thread-safe: one connection guarded by a lock (writes are tiny and rare)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, timeout=10)
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(_SCHEMA)
            self._db.commit()

    @classmethod
    def in_data_dir(cls, data_dir: Path) -> FeedbackStore:
        return cls(Path(data_dir) / "feedback.sqlite3")

    def record_answer(self, *, user: str | None, channel: str | None, question: str, answer: str,
                      mode: str, refused: bool) -> str:
        """Remember a posted answer; returns the short id carried by its feedback buttons."""
        answer_id = uuid.uuid4().hex[:12]
        with self._lock:
            self._db.execute(
                "INSERT INTO answers VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (answer_id, user, channel, question, answer, mode, int(refused), time.time()),
            )
            self._db.commit()
        return answer_id

    def record_vote(self, answer_id: str, user: str, vote: str) -> bool:
        """Store a vote; False when the answer id is unknown (the vote is still kept)."""
        if vote not in ("up", "down"):
            raise ValueError(f"vote must be 'up' or 'down', not {vote!r}")
        with self._lock:
            row = self._db.execute("SELECT question, answer FROM answers WHERE id = ?", (answer_id,)).fetchone()
            question, answer = row if row else (None, None)
            self._db.execute(
                "INSERT INTO votes VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(answer_id, user) DO UPDATE SET "
                "vote = excluded.vote, created = excluded.created",
                (answer_id[:64], user, question, answer, vote, time.time()),
            )
            self._db.commit()
        return row is not None

    def votes(self) -> list[Vote]:
        with self._lock:
            rows = self._db.execute(
                "SELECT answer_id, user, question, answer, vote, created FROM votes ORDER BY created"
            ).fetchall()
        return [Vote(*r) for r in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()
