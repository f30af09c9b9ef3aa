"""A small durable job queue in SQLite: the front door records, worker processes lease.

Stand-in behind the interface of the shared-state module (``claim``, ``enqueue``, ``lease``, ``done``,
``release``) until that lands; one file in CAREERBOT_DATA_DIR, WAL mode, so the front door and the
worker processes of one ``careerbot serve --http`` share it. A leased job whose lease runs out (its
worker died) is leased again.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS claims (key TEXT PRIMARY KEY, expires REAL NOT NULL);
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL, kind TEXT NOT NULL, payload TEXT NOT NULL,
    created REAL NOT NULL, worker TEXT, lease_until REAL, attempts INTEGER NOT NULL DEFAULT 0,
    done_at REAL, reply_ts TEXT);
CREATE INDEX IF NOT EXISTS jobs_open ON jobs (done_at, lease_until);
"""


@dataclass(frozen=True)
class Job:
    id: int
    key: str
    kind: str
    payload: dict[str, Any]
    attempts: int


class LocalQueue:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._claims_since_sweep = 0
        db = self._db()
        db.execute("PRAGMA journal_mode=WAL")
        db.executescript(_SCHEMA)

    @classmethod
    def in_data_dir(cls, data_dir: Path) -> LocalQueue:
        return cls(Path(data_dir) / "queue.sqlite3")

    def _db(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=10, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA busy_timeout=10000")
            self._local.db = db
        return db

    def claim(self, key: str, ttl_s: float) -> bool:
        """True when ``key`` was not claimed (and is now, for ``ttl_s``); False for a duplicate."""
        return self.claim_all([key], ttl_s)

    def claim_all(self, keys: list[str], ttl_s: float) -> bool:
        """Claim every key in one transaction; False (and nothing claimed) when any is already live."""
        now = time.time()
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            for key in keys:
                row = db.execute("SELECT expires FROM claims WHERE key=?", (key,)).fetchone()
                if row is not None and row[0] > now:
                    db.execute("ROLLBACK")
                    return False
            db.executemany("INSERT OR REPLACE INTO claims (key, expires) VALUES (?, ?)",
                           [(k, now + ttl_s) for k in keys])
            self._claims_since_sweep += 1
            if self._claims_since_sweep >= 1000:
                self._claims_since_sweep = 0
                db.execute("DELETE FROM claims WHERE expires < ?", (now,))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return True

    def accept(self, keys: list[str], ttl_s: float, kind: str, payload: dict[str, Any]) -> int | None:
        """Claim ``keys`` and enqueue the job in one transaction; None for a duplicate."""
        now = time.time()
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            for key in keys:
                row = db.execute("SELECT expires FROM claims WHERE key=?", (key,)).fetchone()
                if row is not None and row[0] > now:
                    db.execute("ROLLBACK")
                    return None
            db.executemany("INSERT OR REPLACE INTO claims (key, expires) VALUES (?, ?)",
                           [(k, now + ttl_s) for k in keys])
            cur = db.execute("INSERT INTO jobs (key, kind, payload, created) VALUES (?, ?, ?, ?)",
                             (keys[0] if keys else "", kind, json.dumps(payload), now))
            self._claims_since_sweep += 1
            if self._claims_since_sweep >= 1000:
                self._claims_since_sweep = 0
                db.execute("DELETE FROM claims WHERE expires < ?", (now,))
                db.execute("DELETE FROM jobs WHERE done_at IS NOT NULL AND done_at < ?", (now - 86400,))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return int(cur.lastrowid or 0)

    def enqueue(self, key: str, kind: str, payload: dict[str, Any]) -> int:
        cur = self._db().execute("INSERT INTO jobs (key, kind, payload, created) VALUES (?, ?, ?, ?)",
                                 (key, kind, json.dumps(payload), time.time()))
        return int(cur.lastrowid or 0)

    def lease(self, worker: str, lease_s: float) -> Job | None:
        """The oldest open job nobody holds (or whose lease ran out), now held by ``worker``."""
        now = time.time()
        row = self._db().execute(
            "UPDATE jobs SET worker=?, lease_until=?, attempts=attempts+1 WHERE id = ("
            " SELECT id FROM jobs WHERE done_at IS NULL AND (lease_until IS NULL OR lease_until < ?)"
            " ORDER BY id LIMIT 1) RETURNING id, key, kind, payload, attempts",
            (worker, now + lease_s, now)).fetchone()
        if row is None:
            return None
        return Job(int(row[0]), str(row[1]), str(row[2]), json.loads(row[3]), int(row[4]))

    def done(self, job_id: int, reply_ts: str | None = None) -> None:
        self._db().execute("UPDATE jobs SET done_at=?, reply_ts=?, lease_until=NULL WHERE id=?",
                           (time.time(), reply_ts, job_id))

    def release(self, job_id: int) -> None:
        """Give a leased job back (a worker stopping before it started it)."""
        self._db().execute("UPDATE jobs SET worker=NULL, lease_until=NULL WHERE id=? AND done_at IS NULL", (job_id,))

    def pending(self) -> int:
        row = self._db().execute("SELECT COUNT(*) FROM jobs WHERE done_at IS NULL").fetchone()
        return int(row[0])
