"""The front door's own journal on SQLite: acks never wait for a lock the answering processes hold.

With the default SQLite state, the whole database has one write lock. Worker processes take it to lease
and finish jobs; a worker that is descheduled (or waiting for its own GIL) inside such a transaction
would stall every ack behind it — measured: 200 simultaneous acks all waiting 0.3–1 s. So on SQLite the
front door writes each verified request to this file, which only the front door writes (one commit per
batch of requests that arrived together: durable before the ack), and a mover thread in the front door
hands the rows to the shared queue (``State.enqueue_many``, where the claims decide duplicates) and then
deletes them. A crash between the two re-sends the rows on the next start; the claims make that
harmless. With PostgreSQL (row locks, several replicas) the front door writes to the shared queue directly.

The mover shares the front door's interpreter (and GIL) with the event loop, so it waits for a pause in the
requests — ``QUIET_S`` without a journal write, ``MAX_DEFER_S`` at most — before handing a burst over: the
acks of a burst are not slowed by moving its first requests, and the workers it wakes start after it.

Durability: WAL with ``synchronous=NORMAL``. A commit is in the WAL file before the ack, so the journal
survives the process being killed (the common failure: a pod restarted, OOM, SIGKILL); a power loss or kernel
crash may roll back the last commits before the WAL is synced at a checkpoint. ``FULL`` would add an fsync
to every batch in the ack path for a failure that, on a pod without a persistent volume, loses the disk anyway.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

log = logging.getLogger("careerbot.frontdoor")
request_log = logging.getLogger("careerbot.requests")

BATCH = 256
QUIET_S = 0.02  # the mover starts once the journal has had no write for this long ...
MAX_DEFER_S = 0.25  # ... or this long after it was signalled, whichever comes first (a steady stream)


class Intake:
    def __init__(self, path: Path, state: Any, *, claim_ttl_s: float = 3600.0,
                 notify: Callable[[], None] | None = None) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.state = state
        self.claim_ttl_s = claim_ttl_s
        self.notify = notify or (lambda: None)
        self._local = threading.local()
        self._signal = threading.Event()
        self._stop = threading.Event()
        self._idle = threading.Event()
        self._thread: threading.Thread | None = None
        self.duplicates = 0
        self._last_write = 0.0
        db = self._db()
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE IF NOT EXISTS intake (id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL,"
                   " payload TEXT NOT NULL, claims TEXT NOT NULL, created REAL NOT NULL)")

    @classmethod
    def in_data_dir(cls, data_dir: Path, state: Any, **kw: Any) -> Intake:
        return cls(Path(data_dir) / "intake.sqlite3", state, **kw)

    def _db(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA busy_timeout=30000")
            self._local.db = db
        return db

    # -- the ack path (the front door's writer thread) ---------------------------------------------------------
    def enqueue_many(self, items: Sequence[tuple[str, dict[str, Any], Sequence[str | None]]], *,
                     claim_ttl_s: float | None = None) -> list[str | None]:
        """Journal the requests in one commit; ids are local (duplicates are found when they are moved)."""
        now = time.time()
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            ids = []
            for kind, payload, claims in items:
                cur = db.execute("INSERT INTO intake (kind, payload, claims, created) VALUES (?, ?, ?, ?)",
                                 (kind, json.dumps(payload, separators=(",", ":")),
                                  json.dumps([c for c in claims if c]), now))
                ids.append(f"intake:{cur.lastrowid}")
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        self._last_write = time.monotonic()
        self._signal.set()
        return list(ids)

    def enqueue(self, kind: str, payload: dict[str, Any], *, claims: Sequence[str | None] = (),
                claim_ttl_s: float | None = None) -> str | None:
        return self.enqueue_many([(kind, payload, claims)])[0]

    def pending(self) -> int:
        return int(self._db().execute("SELECT COUNT(*) FROM intake").fetchone()[0])

    # -- the mover --------------------------------------------------------------------------------------------
    def start(self) -> Intake:
        self._thread = threading.Thread(target=self._run, name="careerbot-intake", daemon=True)
        self._thread.start()
        return self

    def move(self) -> int:
        """Hand up to BATCH journaled requests to the shared queue; returns how many were moved."""
        db = self._db()
        rows = db.execute("SELECT id, kind, payload, claims FROM intake ORDER BY id LIMIT ?", (BATCH,)).fetchall()
        if not rows:
            return 0
        items = [(str(kind), json.loads(payload), json.loads(claims)) for _, kind, payload, claims in rows]
        results = self.state.enqueue_many(items, claim_ttl_s=self.claim_ttl_s)
        db.execute("DELETE FROM intake WHERE id <= ?", (rows[-1][0],))
        dupes = sum(1 for r in results if r is None)
        if dupes:
            self.duplicates += dupes
            request_log.info(json.dumps({"kind": "intake", "outcome": "duplicate", "count": dupes}))
        if dupes < len(results):
            self.notify()
        return len(rows)

    def _quiet(self) -> None:
        """Wait for a pause in the front door's writes (bounded): a burst is acked before it is moved."""
        start = time.monotonic()
        while not self._stop.is_set():
            now = time.monotonic()
            left = min(QUIET_S - (now - self._last_write), MAX_DEFER_S - (now - start))
            if left <= 0:
                return
            self._stop.wait(left)

    def _run(self) -> None:
        failing_since = 0.0
        while not self._stop.is_set():
            self._signal.clear()
            self._quiet()
            try:
                moved = self.move()
                failing_since = 0.0
            except Exception as exc:  # the shared database is away: the journal keeps the requests
                if not failing_since:
                    log.warning("moving requests to the queue failed: %s", type(exc).__name__)
                failing_since = failing_since or time.monotonic()
                moved = 0
                self._stop.wait(1.0)
            if not moved:
                self._idle.set()
                self._signal.wait(0.5)
                self._idle.clear()

    def stop(self, timeout_s: float = 10.0) -> bool:
        """Move what is journaled (bounded), then stop; True when the journal is empty."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and self.pending():
            self._signal.set()
            time.sleep(0.02)
        self._stop.set()
        self._signal.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        return self.pending() == 0
