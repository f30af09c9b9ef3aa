"""The shared store behind every replica: claims, the durable job queue, answers and votes, rate limits.

One ``State`` per process, built from ``Settings.database_url`` (a SQLAlchemy URL): SQLite under
CAREERBOT_DATA_DIR by default, PostgreSQL (psycopg 3) for several replicas. Every method is one short
transaction, safe from any thread, and every write that decides something (a claim, a lease, a rate-limit
hit) is a single atomic statement, so two replicas racing on the same key get one winner.

Interface (all times are seconds; ``now`` is this host's wall clock):

    State.open(url) / State.from_settings(settings)   # engine + schema upgraded (Alembic, idempotent)
    claim(*keys, ttl_s) -> bool                       # insert-if-absent for all keys at once; False if any is live
    admit(kind, payload, *, claims, user, limit, window_s, surface, notice_kind) -> Admission
                                                      # the ack path in one commit: claims, rate limit, job
    enqueue(kind, payload, *, claims=(), claim_ttl_s) -> str | None
                                                      # durable job (and its claims) in one transaction;
                                                      # None when a claim was already taken (a duplicate)
    lease(worker, lease_s, kinds=None) -> Job | None  # oldest queued job, or one whose lease expired or whose
                                                      # worker is dead (below) (PG: FOR UPDATE SKIP LOCKED);
                                                      # attempts += 1
    extend(job_ids, worker, lease_s)                  # heartbeat for jobs still running
    hand_off(job_id, worker, hold_s)                  # shutdown, reply in flight: nobody's, leasable after hold_s
    holds(job_id, worker) -> bool                     # before posting: the job was not taken over
    register(worker, dead_after_s) / beat(worker, dead_after_s) / gone(worker)
                                                      # replica liveness: a worker's row and its heartbeat
    beat_processes(host, pids, dead_after_s, since) / gone_process(host, pid, since)
                                                      # the same, from the parent of worker processes
    done(job_id, reply_ts=None) / release(job_id) / fail(job_id, error)
    record_answer(...) -> answer_id                   # every posted answer, so a vote on any replica joins it
    record_vote(answer_id, user, vote) -> bool        # False: unknown answer (the vote is still kept)
    hit_rate_limit(user, limit, window_s, surface) -> Verdict
                                                      # ALLOW, NOTIFY (first refusal per window+surface), SILENT
    feedback_summary(since) -> Summary                # `careerbot feedback` and the Home tab
    sweep()                                           # drop expired claims, old windows and old done jobs

A job is leased, not popped: a worker that dies leaves its lease to expire and another worker (this or
another replica) takes the job again with ``attempts`` > 1 (``Job.recovered``), and should look for a reply
that reached Slack before the crash before posting its own.

A worker that registered (``register``) and keeps beating (``beat``, every second or so) holds its leases for as
long as it beats: a slow answer is never taken away. Once its beats stop for ``dead_after_s`` (SIGKILL, a lost
host) or it says it is ``gone`` (a clean stop, after its drain), every job it held is leasable at once, long
before the job's own lease ends; the lease stays the backstop for a worker without a row.
"""

from __future__ import annotations

import enum
import fcntl
import json
import logging
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from hashlib import sha256
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from ..errors import StateError

log = logging.getLogger("careerbot.state")

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
SQLITE_FILE = "careerbot.sqlite3"
MAX_ATTEMPTS = 5
ADVISORY_LOCK_ID = 0x63617265  # "care": serialises schema upgrades of replicas starting together
KEY_CHARS = 255


class Verdict(enum.StrEnum):
    ALLOW = "allow"
    NOTIFY = "notify"  # over the limit: tell the user once in this window
    SILENT = "silent"  # over the limit and already told


# -- tables (the schema itself is created by migrations/versions/*) -------------------------------------------
metadata = sa.MetaData()
claims_t = sa.Table("claims", metadata, sa.Column("key", sa.String(255), primary_key=True),
                    sa.Column("expires_at", sa.Float, nullable=False))
jobs_t = sa.Table(
    "jobs", metadata,
    sa.Column("id", sa.String(32), primary_key=True), sa.Column("kind", sa.String(32)),
    sa.Column("payload", sa.Text), sa.Column("status", sa.String(16)), sa.Column("worker", sa.String(128)),
    sa.Column("lease_until", sa.Float), sa.Column("attempts", sa.Integer), sa.Column("created", sa.Float),
    sa.Column("updated", sa.Float), sa.Column("reply_ts", sa.String(64)), sa.Column("error", sa.String(255)),
)
answers_t = sa.Table(
    "answers", metadata,
    sa.Column("id", sa.String(32), primary_key=True), sa.Column("job_id", sa.String(32)),
    sa.Column("user", sa.String(64)), sa.Column("channel", sa.String(64)), sa.Column("channel_type", sa.String(32)),
    sa.Column("message_ts", sa.String(64)), sa.Column("question", sa.Text), sa.Column("answer", sa.Text),
    sa.Column("sources", sa.Text), sa.Column("mode", sa.String(32)), sa.Column("refused", sa.Boolean),
    sa.Column("created", sa.Float),
)
votes_t = sa.Table("votes", metadata, sa.Column("answer_id", sa.String(64), primary_key=True),
                   sa.Column("user", sa.String(64), primary_key=True), sa.Column("vote", sa.String(8)),
                   sa.Column("created", sa.Float))
rate_t = sa.Table("rate_windows", metadata, sa.Column("user", sa.String(64), primary_key=True),
                  sa.Column("window", sa.BigInteger, primary_key=True), sa.Column("hits", sa.Integer))
replicas_t = sa.Table(
    "replicas", metadata,
    sa.Column("id", sa.String(128), primary_key=True), sa.Column("host", sa.String(255)), sa.Column("pid", sa.Integer),
    sa.Column("started", sa.Float), sa.Column("last_seen", sa.Float), sa.Column("alive_until", sa.Float),
    sa.Column("stopped", sa.Float),
)


@dataclass(frozen=True)
class Job:
    id: str
    kind: str
    payload: dict[str, Any]
    attempts: int
    created: float

    @property
    def recovered(self) -> bool:
        """Leased before (by a worker that died, stopped, or ran out of lease): a reply may already be out."""
        return self.attempts > 1


@dataclass(frozen=True)
class Admission:
    """What ``State.admit`` decided for one request."""

    duplicate: bool  # a claim was held: seen before (a retry, or the same message under another event)
    verdict: Verdict  # the rate limit's word (ALLOW for a duplicate: it was not counted)
    job_id: str | None  # the job recorded, if any


@dataclass(frozen=True)
class Vote:
    answer_id: str
    user: str
    question: str | None
    answer: str | None
    vote: str  # "up" | "down"
    created: float


@dataclass(frozen=True)
class RatedAnswer:
    answer_id: str
    question: str
    answer: str
    sources: list[dict[str, Any]]
    mode: str | None
    up: int
    down: int
    created: float

    @property
    def score(self) -> int:
        return self.up - self.down


@dataclass(frozen=True)
class Summary:
    since: float
    days: list[tuple[str, int, int]]  # (YYYY-MM-DD, up, down), oldest first
    lowest: list[RatedAnswer]  # voted answers, lowest score first
    down_sources: list[tuple[str, str, int]]  # (source, title, down-voted answers citing it), most first
    answers: int = 0  # answers posted since ``since``
    votes_unknown: int = 0  # votes for answers the store does not know
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def up(self) -> int:
        return sum(d[1] for d in self.days)

    @property
    def down(self) -> int:
        return sum(d[2] for d in self.days)

    def to_json(self) -> dict[str, Any]:
        return {
            "since": datetime.fromtimestamp(self.since, UTC).isoformat(timespec="seconds"),
            "answers": self.answers, "up": self.up, "down": self.down, "votes_unknown": self.votes_unknown,
            "days": [{"day": d, "up": u, "down": n} for d, u, n in self.days],
            "lowest": [{"answer_id": a.answer_id, "question": a.question, "answer": a.answer, "mode": a.mode,
                        "up": a.up, "down": a.down, "score": a.score, "sources": a.sources,
                        "created": datetime.fromtimestamp(a.created, UTC).isoformat(timespec="seconds")}
                       for a in self.lowest],
            "down_sources": [{"source": s, "title": t, "down_answers": n} for s, t, n in self.down_sources],
        }


def default_url(data_dir: Path) -> str:
    return f"sqlite:///{Path(data_dir).resolve() / SQLITE_FILE}"


def normalise_url(url: str) -> str:
    """postgres:// and postgresql:// mean psycopg 3 (the driver we ship)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def safe_url(url: str) -> str:
    """The URL with its password hidden, for messages and logs."""
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "(unparseable DATABASE_URL)"


def _text(value: str) -> str:
    """Text any database accepts: lone surrogates (which no UTF-8 encoder takes) replaced, NULs dropped."""
    return value.encode("utf-8", "replace").decode("utf-8").replace("\x00", "")


def _opt(value: str | None, limit: int) -> str | None:
    return None if value is None else _text(str(value))[:limit]


def _key(key: str) -> str:
    key = _text(key)
    return key if len(key) <= KEY_CHARS else "sha256:" + sha256(key.encode()).hexdigest()


def _reason(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    first = str(orig).strip().splitlines()[0][:200] if str(orig).strip() else ""
    return f"{type(orig).__name__}: {first}" if first else type(orig).__name__


class _Duplicate(Exception):
    pass


class State:
    def __init__(self, engine: Engine, *, url: str) -> None:
        self.engine = engine
        self.url = url
        self.dialect = engine.dialect.name
        self._sweep_lock = threading.Lock()
        self._last_sweep = 0.0

    # -- opening ----------------------------------------------------------------------------------------------
    @classmethod
    def from_settings(cls, settings: Any) -> State:
        return cls.open(settings.state_url())

    @classmethod
    def open(cls, url: str, *, migrate: bool = True) -> State:
        url = normalise_url(url)
        try:
            parsed = sa.make_url(url)
        except Exception:
            raise StateError("DATABASE_URL is not a database URL (e.g. postgresql://user:pass@host/db)") from None
        if parsed.get_backend_name() == "sqlite":
            engine = _sqlite_engine(parsed)
        elif parsed.get_backend_name() == "postgresql":
            try:
                engine = sa.create_engine(url, pool_size=8, max_overflow=16, pool_pre_ping=True, pool_recycle=1800,
                                          connect_args={"connect_timeout": 10})
            except Exception as exc:
                raise StateError(f"cannot use DATABASE_URL {safe_url(url)}: {_reason(exc)}") from None
        else:
            raise StateError(f"DATABASE_URL must be sqlite:// or postgresql://, not {parsed.get_backend_name()}://")
        state = cls(engine, url=url)
        if migrate:
            state.migrate()
        return state

    def migrate(self) -> None:
        """Create or upgrade the schema to the newest revision; concurrent starts take turns."""
        from alembic import command
        from alembic.config import Config

        try:
            with self._upgrade_lock() as conn:
                config = Config()
                config.set_main_option("script_location", str(MIGRATIONS))
                config.attributes["connection"] = conn
                command.upgrade(config, "head")
        except StateError:
            raise
        except Exception as exc:
            raise StateError(f"cannot open the database {safe_url(self.url)}: {_reason(exc)}") from None

    @contextmanager
    def _upgrade_lock(self) -> Iterator[Connection]:
        if self.dialect == "postgresql":
            with self.engine.connect() as conn:
                conn.execute(sa.text("SELECT pg_advisory_lock(:id)"), {"id": ADVISORY_LOCK_ID})
                conn.commit()
                try:
                    with conn.begin():
                        yield conn
                finally:
                    conn.execute(sa.text("SELECT pg_advisory_unlock(:id)"), {"id": ADVISORY_LOCK_ID})
                    conn.commit()
            return
        database = self.engine.url.database
        lock_file = Path(f"{database}.migrate.lock") if database and database != ":memory:" else None
        handle = open(lock_file, "a+") if lock_file else None  # noqa: SIM115 - held for the with-block
        try:
            if handle:
                fcntl.flock(handle, fcntl.LOCK_EX)
            with self.engine.begin() as conn:
                yield conn
        finally:
            if handle:
                fcntl.flock(handle, fcntl.LOCK_UN)
                handle.close()

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> State:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def ping(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
            return True
        except Exception:
            return False

    # -- upserts, per dialect ---------------------------------------------------------------------------------
    def _insert(self, table: sa.Table) -> Any:
        if self.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            return pg_insert(table)
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(table)

    def _claim_in(self, conn: Connection, keys: Sequence[str], ttl_s: float, now: float) -> bool:
        """All ``keys`` claimed in one statement (one round trip); False if any is held (the caller rolls back)."""
        rows = [{"key": k, "expires_at": now + ttl_s} for k in dict.fromkeys(_key(k) for k in keys)]
        stmt = self._insert(claims_t).values(rows)
        stmt = stmt.on_conflict_do_update(index_elements=["key"], set_={"expires_at": stmt.excluded.expires_at},
                                          where=claims_t.c.expires_at < now).returning(claims_t.c.key)
        return len(conn.execute(stmt).all()) == len(rows)

    # -- exactly once --------------------------------------------------------------------------------------------
    def claim(self, *keys: str | None, ttl_s: float = 3600.0) -> bool:
        """Claim every key (insert-if-absent; an expired claim is taken over); False if any is held."""
        live = [k for k in dict.fromkeys(keys) if k]
        if not live:
            return True
        now = time.time()
        try:
            with self.engine.begin() as conn:
                if not self._claim_in(conn, live, ttl_s, now):
                    raise _Duplicate
        except _Duplicate:
            return False
        self._maybe_sweep()
        return True

    # -- the durable queue ---------------------------------------------------------------------------------------
    def enqueue(self, kind: str, payload: dict[str, Any], *, claims: Iterable[str | None] = (),
                claim_ttl_s: float = 3600.0) -> str | None:
        """Record a job (with its claims, one transaction); None when a claim was already held."""
        now = time.time()
        job_id = uuid.uuid4().hex
        live = [k for k in dict.fromkeys(claims) if k]
        body = json.dumps(payload, separators=(",", ":"))  # ASCII: a lone surrogate from a client stays escaped
        try:
            with self.engine.begin() as conn:
                if live and not self._claim_in(conn, live, claim_ttl_s, now):
                    raise _Duplicate
                conn.execute(jobs_t.insert().values(id=job_id, kind=kind, payload=body, status="queued",
                                                    lease_until=0.0, attempts=0, created=now, updated=now))
        except _Duplicate:
            return None
        self._maybe_sweep()
        return job_id

    def enqueue_many(self, items: Sequence[tuple[str, dict[str, Any], Sequence[str | None]]], *,
                     claim_ttl_s: float = 3600.0) -> list[str | None]:
        """Several ``enqueue(kind, payload, claims=...)`` in one transaction, each all-or-nothing.

        For the front door acking a burst: the requests that arrived together cost one commit. On SQLite
        the transaction holds the database's write lock (BEGIN IMMEDIATE), so claims are checked with one
        query and written with one statement; on PostgreSQL each item claims in its own savepoint, as
        ``enqueue`` does, so replicas racing for a key still get exactly one winner.
        """
        now = time.time()
        prepared = [(kind, payload, [_key(k) for k in dict.fromkeys(claims) if k]) for kind, payload, claims in items]
        out: list[str | None] = []
        with self.engine.begin() as conn:
            if self.dialect == "sqlite":
                wanted = sorted({k for _, _, keys in prepared for k in keys})
                held: set[str] = set()
                for i in range(0, len(wanted), 500):
                    held.update(conn.execute(sa.select(claims_t.c.key).where(
                        claims_t.c.key.in_(wanted[i:i + 500]), claims_t.c.expires_at >= now)).scalars())
                claim_rows: list[dict[str, Any]] = []
                job_rows: list[dict[str, Any]] = []
                for kind, payload, keys in prepared:
                    if any(k in held for k in keys):
                        out.append(None)
                        continue
                    held.update(keys)
                    job_id = uuid.uuid4().hex
                    claim_rows += [{"key": k, "expires_at": now + claim_ttl_s} for k in keys]
                    job_rows.append({"id": job_id, "kind": kind, "status": "queued", "lease_until": 0.0,
                                     "attempts": 0, "created": now, "updated": now,
                                     "payload": json.dumps(payload, separators=(",", ":"))})
                    out.append(job_id)
                if claim_rows:
                    stmt = self._insert(claims_t)
                    conn.execute(stmt.on_conflict_do_update(index_elements=["key"],
                                                            set_={"expires_at": stmt.excluded.expires_at}), claim_rows)
                if job_rows:
                    conn.execute(jobs_t.insert(), job_rows)
            else:
                for kind, payload, keys in prepared:
                    nested = conn.begin_nested()
                    if keys and not self._claim_in(conn, keys, claim_ttl_s, now):
                        nested.rollback()
                        out.append(None)
                        continue
                    job_id = uuid.uuid4().hex
                    body = json.dumps(payload, separators=(",", ":"))
                    conn.execute(jobs_t.insert().values(id=job_id, kind=kind, payload=body, status="queued",
                                                        lease_until=0.0, attempts=0, created=now, updated=now))
                    nested.commit()
                    out.append(job_id)
        self._maybe_sweep()
        return out

    def lease(self, worker: str, lease_s: float, kinds: Iterable[str] | None = None) -> Job | None:
        """Take the oldest job that is queued, or leased by a dead worker, or whose lease expired, for ``lease_s``."""
        now = time.time()
        dead = sa.select(replicas_t.c.id).where(replicas_t.c.alive_until < now)
        leasable = sa.or_(jobs_t.c.status == "queued",
                          sa.and_(jobs_t.c.status == "leased",
                                  sa.or_(jobs_t.c.lease_until < now, jobs_t.c.worker.in_(dead))))
        pick = sa.select(jobs_t.c.id).where(leasable, jobs_t.c.attempts < MAX_ATTEMPTS)
        if kinds is not None:
            pick = pick.where(jobs_t.c.kind.in_(list(kinds)))
        pick = pick.order_by(jobs_t.c.created).limit(1)
        if self.dialect == "postgresql":
            pick = pick.with_for_update(skip_locked=True, of=jobs_t)
        stmt = (jobs_t.update().where(jobs_t.c.id == pick.scalar_subquery())
                .values(status="leased", worker=worker[:128], lease_until=now + lease_s,
                        attempts=jobs_t.c.attempts + 1, updated=now)
                .returning(jobs_t.c.id, jobs_t.c.kind, jobs_t.c.payload, jobs_t.c.attempts, jobs_t.c.created))
        with self.engine.begin() as conn:
            row = conn.execute(stmt).first()
        if row is None:
            return None
        return Job(id=row.id, kind=row.kind, payload=json.loads(row.payload), attempts=int(row.attempts),
                   created=float(row.created))

    def extend(self, job_ids: Iterable[str], worker: str, lease_s: float) -> None:
        ids = list(job_ids)
        if not ids:
            return
        with self.engine.begin() as conn:
            conn.execute(jobs_t.update().where(jobs_t.c.id.in_(ids), jobs_t.c.worker == worker[:128],
                                               jobs_t.c.status == "leased")
                         .values(lease_until=time.time() + lease_s))

    def hand_off(self, job_id: str, worker: str, hold_s: float) -> None:
        """Shutdown with the reply on its way to Slack: the job belongs to nobody and is leasable after ``hold_s``
        (the Slack client's timeout), whatever becomes of ``worker``; whoever takes it then looks in the thread."""
        with self.engine.begin() as conn:
            conn.execute(jobs_t.update().where(jobs_t.c.id == job_id, jobs_t.c.worker == worker[:128],
                                               jobs_t.c.status == "leased")
                         .values(worker=None, lease_until=time.time() + hold_s, updated=time.time()))

    # -- replica liveness ------------------------------------------------------------------------------------------
    def register(self, worker: str, dead_after_s: float, *, host: str | None = None, pid: int | None = None) -> None:
        """A job runner starts: its row, alive for ``dead_after_s`` unless it beats again."""
        now = time.time()
        values = {"host": _opt(host, 255), "pid": pid, "started": now, "last_seen": now,
                  "alive_until": now + dead_after_s, "stopped": None}
        stmt = self._insert(replicas_t).values(id=worker[:128], **values)
        with self.engine.begin() as conn:
            conn.execute(stmt.on_conflict_do_update(index_elements=["id"], set_=values))

    def beat(self, worker: str, dead_after_s: float) -> bool:
        """The runner's heartbeat; False when its row is gone (swept, or it stopped), and then nothing changes."""
        now = time.time()
        with self.engine.begin() as conn:
            hit = conn.execute(replicas_t.update()
                               .where(replicas_t.c.id == worker[:128], replicas_t.c.stopped.is_(None))
                               .values(last_seen=now, alive_until=now + dead_after_s))
        return bool(hit.rowcount)

    def beat_processes(self, host: str, pids: Iterable[int], dead_after_s: float, *, since: float) -> int:
        """A parent's heartbeat for its worker processes (the rows of runners on ``host`` with those ``pids``,
        started at or after ``since``): they stay alive while the parent sees them alive, however starved
        of CPU they are. Returns the rows refreshed."""
        pids = list(pids)
        if not pids:
            return 0
        now = time.time()
        with self.engine.begin() as conn:
            hit = conn.execute(replicas_t.update()
                               .where(replicas_t.c.host == _text(host)[:255], replicas_t.c.pid.in_(pids),
                                      replicas_t.c.started >= since, replicas_t.c.stopped.is_(None))
                               .values(last_seen=now, alive_until=now + dead_after_s))
        return int(hit.rowcount or 0)

    def gone_process(self, host: str, pid: int, *, since: float) -> None:
        """A parent saw its worker process die: that runner's jobs are leasable at once."""
        with self.engine.begin() as conn:
            conn.execute(replicas_t.update()
                         .where(replicas_t.c.host == _text(host)[:255], replicas_t.c.pid == pid,
                                replicas_t.c.started >= since, replicas_t.c.stopped.is_(None))
                         .values(stopped=time.time(), alive_until=0.0))

    def gone(self, worker: str) -> None:
        """A clean stop, after the drain: whatever the runner still holds is leasable at once."""
        now = time.time()
        with self.engine.begin() as conn:
            conn.execute(replicas_t.update().where(replicas_t.c.id == worker[:128])
                         .values(stopped=now, alive_until=0.0, last_seen=now))

    def replicas(self) -> list[dict[str, Any]]:
        """Every registered runner: id, host, pid, started, last_seen, alive_until, stopped (oldest first)."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(replicas_t).order_by(replicas_t.c.started)).mappings().all()
        return [dict(r) for r in rows]

    def pending(self) -> int:
        """Jobs not finished yet (queued or leased): one indexed count."""
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(jobs_t)
                                    .where(jobs_t.c.status.in_(["queued", "leased"]))).scalar_one())

    def done(self, job_id: str, reply_ts: str | None = None) -> None:
        """The reply is posted (``reply_ts``: its message ts, also stored on the job's answer)."""
        now = time.time()
        with self.engine.begin() as conn:
            conn.execute(jobs_t.update().where(jobs_t.c.id == job_id)
                         .values(status="done", reply_ts=reply_ts, lease_until=0.0, updated=now))
            if reply_ts:
                conn.execute(answers_t.update().where(answers_t.c.job_id == job_id, answers_t.c.message_ts.is_(None))
                             .values(message_ts=reply_ts))

    def release(self, job_id: str, worker: str | None = None) -> None:
        """Give a leased job back (shutdown): queued again at once, attempts kept (so it counts as recovered).

        With ``worker``: only while that worker still holds it."""
        where = [jobs_t.c.id == job_id, jobs_t.c.status == "leased"]
        if worker is not None:
            where.append(jobs_t.c.worker == worker[:128])
        with self.engine.begin() as conn:
            conn.execute(jobs_t.update().where(*where)
                         .values(status="queued", worker=None, lease_until=0.0, updated=time.time()))

    def holds(self, job_id: str, worker: str) -> bool:
        """Whether ``worker`` still holds the job's lease (nobody took it over, thinking the worker dead)."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(jobs_t.c.id).where(jobs_t.c.id == job_id, jobs_t.c.worker == worker[:128],
                                                            jobs_t.c.status == "leased")).first()
        return row is not None

    def fail(self, job_id: str, error: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(jobs_t.update().where(jobs_t.c.id == job_id)
                         .values(status="failed", error=error[:255], lease_until=0.0, updated=time.time()))

    def job_status(self, job_id: str) -> str | None:
        with self.engine.connect() as conn:
            value = conn.execute(sa.select(jobs_t.c.status).where(jobs_t.c.id == job_id)).scalar()
        return None if value is None else str(value)

    def counts(self) -> dict[str, int]:
        """Jobs by status (queued, leased, done, failed)."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(jobs_t.c.status, sa.func.count()).group_by(jobs_t.c.status)).all()
        return {str(s): int(n) for s, n in rows}

    # -- rate limits -----------------------------------------------------------------------------------------------
    def hit_rate_limit(self, user: str | None, limit: int, window_s: float = 60.0,
                       surface: str = "message") -> Verdict:
        """Count one request for ``user`` in a sliding window (two fixed windows, weighted), shared by every replica.

        Over the limit: NOTIFY once per window and ``surface`` (a channel post, an ephemeral command reply),
        then SILENT until the next window. A refused request is not counted.
        """
        with self.engine.begin() as conn:
            return self._rate_in(conn, user, limit, window_s, surface, time.time())

    def _rate_in(self, conn: Connection, user: str | None, limit: int, window_s: float, surface: str,
                 now: float) -> Verdict:
        if limit <= 0 or not user:
            return Verdict.ALLOW
        user = _text(user)[:64]
        start = now // window_s * window_s  # the window's start, in epoch seconds
        window, previous = int(start * 1000), int((start - window_s) * 1000)  # keys: epoch milliseconds
        stmt = self._insert(rate_t).values(user=user, window=window, hits=1)
        stmt = stmt.on_conflict_do_update(index_elements=["user", "window"],
                                          set_={"hits": rate_t.c.hits + 1}).returning(rate_t.c.hits)
        hits = int(conn.execute(stmt).scalar_one())
        before = conn.execute(sa.select(rate_t.c.hits).where(rate_t.c.user == user,
                                                             rate_t.c.window == previous)).scalar()
        # a sliding window, approximated: the previous window's hits weighted by how much of it still overlaps
        overlap = 1.0 - (now - start) / window_s
        if hits + (before or 0) * overlap <= limit:
            return Verdict.ALLOW
        conn.execute(rate_t.update().where(rate_t.c.user == user, rate_t.c.window == window)
                     .values(hits=rate_t.c.hits - 1))
        told = self._claim_in(conn, [f"rate-told:{user}:{surface}:{window}"], start + window_s - now + 1, now)
        return Verdict.NOTIFY if told else Verdict.SILENT

    def admit(self, kind: str, payload: dict[str, Any], *, claims: Iterable[str | None] = (),
              claim_ttl_s: float = 3600.0, user: str | None = None, limit: int = 0, window_s: float = 60.0,
              surface: str = "message", notice_kind: str | None = None) -> Admission:
        """The whole ack path in one transaction (one commit): claims, the rate limit, the job.

        A held claim: a duplicate, nothing counted or recorded. Otherwise the request counts against
        ``user``'s limit; allowed, a ``kind`` job is recorded; refused with a notice due (NOTIFY), a
        ``notice_kind`` job when one is given; SILENT, nothing.
        """
        now = time.time()
        live = [k for k in dict.fromkeys(claims) if k]
        body = json.dumps(payload, separators=(",", ":"))
        job_id = uuid.uuid4().hex
        try:
            with self.engine.begin() as conn:
                if live and not self._claim_in(conn, live, claim_ttl_s, now):
                    raise _Duplicate
                verdict = self._rate_in(conn, user, limit, window_s, surface, now)
                job_kind = kind if verdict is Verdict.ALLOW else (notice_kind if verdict is Verdict.NOTIFY else None)
                if job_kind:
                    conn.execute(jobs_t.insert().values(id=job_id, kind=job_kind, payload=body, status="queued",
                                                        lease_until=0.0, attempts=0, created=now, updated=now))
        except _Duplicate:
            return Admission(duplicate=True, verdict=Verdict.ALLOW, job_id=None)
        self._maybe_sweep()
        return Admission(duplicate=False, verdict=verdict, job_id=job_id if job_kind else None)

    # -- answers and votes -------------------------------------------------------------------------------------------
    def record_answer(self, *, question: str, answer: str, sources: Sequence[dict[str, Any]] = (), mode: str | None,
                      refused: bool = False, user: str | None = None, channel: str | None = None,
                      channel_type: str | None = None, message_ts: str | None = None,
                      job_id: str | None = None) -> str:
        """Store an answer about to be posted; returns the short id its vote buttons carry."""
        answer_id = uuid.uuid4().hex[:12]
        with self.engine.begin() as conn:
            conn.execute(answers_t.insert().values(
                id=answer_id, job_id=job_id, user=_opt(user, 64), channel=_opt(channel, 64),
                channel_type=_opt(channel_type, 32), message_ts=_opt(message_ts, 64), question=_text(question),
                answer=_text(answer),
                sources=json.dumps(list(sources)), mode=mode, refused=bool(refused),
                created=time.time()))
        return answer_id

    def record_vote(self, answer_id: str, user: str, vote: str) -> bool:
        """One vote per user per answer (a change of mind replaces it); False when the answer is unknown."""
        if vote not in ("up", "down"):
            raise ValueError(f"vote must be 'up' or 'down', not {vote!r}")
        answer_id, user = _text(answer_id)[:64], _text(user)
        stmt = self._insert(votes_t).values(answer_id=answer_id, user=user[:64], vote=vote, created=time.time())
        stmt = stmt.on_conflict_do_update(index_elements=["answer_id", "user"],
                                          set_={"vote": stmt.excluded.vote, "created": stmt.excluded.created})
        with self.engine.begin() as conn:
            conn.execute(stmt)
            known = conn.execute(sa.select(answers_t.c.id).where(answers_t.c.id == answer_id)).first()
        return known is not None

    def votes(self, since: float = 0.0) -> list[Vote]:
        """Votes with the question and answer they were cast on (None for an unknown answer)."""
        stmt = (sa.select(votes_t.c.answer_id, votes_t.c.user, answers_t.c.question, answers_t.c.answer,
                          votes_t.c.vote, votes_t.c.created)
                .select_from(votes_t.outerjoin(answers_t, answers_t.c.id == votes_t.c.answer_id))
                .where(votes_t.c.created >= since).order_by(votes_t.c.created))
        with self.engine.connect() as conn:
            return [Vote(*row) for row in conn.execute(stmt).all()]

    def answer(self, answer_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(answers_t).where(answers_t.c.id == answer_id)).mappings().first()
        if row is None:
            return None
        out = dict(row)
        out["sources"] = json.loads(out.get("sources") or "[]")
        return out

    def feedback_summary(self, since: float, *, lowest: int = 10) -> Summary:
        """Votes per day, the lowest-rated answers, and the documents cited by down-voted answers."""
        stmt = (sa.select(votes_t.c.answer_id, votes_t.c.vote, votes_t.c.created, answers_t.c.id.label("known"),
                          answers_t.c.question, answers_t.c.answer, answers_t.c.sources, answers_t.c.mode,
                          answers_t.c.created.label("answered"))
                .select_from(votes_t.outerjoin(answers_t, answers_t.c.id == votes_t.c.answer_id))
                .where(votes_t.c.created >= since))
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).all()
            answered = int(conn.execute(sa.select(sa.func.count()).select_from(answers_t)
                                        .where(answers_t.c.created >= since)).scalar_one())
        days: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        tally: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        info: dict[str, Any] = {}
        unknown = 0
        for r in rows:
            day = datetime.fromtimestamp(float(r.created), UTC).strftime("%Y-%m-%d")
            days[day][0 if r.vote == "up" else 1] += 1
            if r.known is None:
                unknown += 1
                continue
            tally[r.answer_id][0 if r.vote == "up" else 1] += 1
            info[r.answer_id] = r
        rated = [RatedAnswer(answer_id=a, question=info[a].question or "", answer=info[a].answer or "",
                             sources=json.loads(info[a].sources or "[]"), mode=info[a].mode, up=u, down=d,
                             created=float(info[a].answered or 0.0)) for a, (u, d) in tally.items()]
        rated.sort(key=lambda a: (a.score, -a.down, -a.created))
        cited: Counter[tuple[str, str]] = Counter()
        for a in rated:
            if a.down == 0:
                continue
            for s in {(str(s.get("source") or ""), str(s.get("title") or "")) for s in a.sources}:
                if s[0]:
                    cited[s] += 1
        down_sources = sorted(((s, t, n) for (s, t), n in cited.items()), key=lambda x: (-x[2], x[0]))
        return Summary(since=since, days=sorted((d, v[0], v[1]) for d, v in days.items()), lowest=rated[:lowest],
                       down_sources=down_sources, answers=answered, votes_unknown=unknown)

    # -- housekeeping --------------------------------------------------------------------------------------------------
    def sweep(self, *, keep_done_s: float = 7 * 86400.0) -> None:
        """Drop expired claims, past rate windows, finished jobs older than ``keep_done_s``, day-dead replicas."""
        now = time.time()
        with self.engine.begin() as conn:
            conn.execute(claims_t.delete().where(claims_t.c.expires_at < now))
            conn.execute(rate_t.delete().where(rate_t.c.window < int((now - 86400) * 1000)))
            conn.execute(jobs_t.delete().where(jobs_t.c.status.in_(["done", "failed"]),
                                               jobs_t.c.updated < now - keep_done_s))
            conn.execute(jobs_t.update().where(jobs_t.c.status.in_(["queued", "leased"]),
                                               jobs_t.c.attempts >= MAX_ATTEMPTS, jobs_t.c.lease_until < now)
                         .values(status="failed", error="too many attempts", updated=now))
            conn.execute(replicas_t.delete().where(replicas_t.c.alive_until < now - 86400))

    def _maybe_sweep(self, every_s: float = 300.0) -> None:
        now = time.monotonic()
        if now - self._last_sweep < every_s or not self._sweep_lock.acquire(blocking=False):
            return
        try:
            self._last_sweep = now
            self.sweep()
        except Exception as exc:  # housekeeping never breaks the request that triggered it
            log.warning("state sweep failed: %s", _reason(exc))
        finally:
            self._sweep_lock.release()


def _sqlite_engine(parsed: sa.URL) -> Engine:
    database = parsed.database
    if database and database != ":memory:":
        try:
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StateError(f"cannot create the folder for {database}: {exc.strerror}") from None
    engine = sa.create_engine(parsed, connect_args={"check_same_thread": False, "timeout": 30}, pool_size=8,
                              max_overflow=16)

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (below)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # take the write lock up front: a read-then-write transaction can then never fail with SQLITE_BUSY
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine
