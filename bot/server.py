"""Serving the Slack app: the front door and queue workers (HTTP mode), or a Socket Mode connection.

HTTP mode: ``bot/frontdoor.py`` verifies, records and acknowledges ``POST /slack/events`` and answers
``GET /healthz`` from cached, bounded checks; queue workers lease the recorded requests and answer them
through bolt. ``careerbot serve --http`` runs the front door in its own process and the ``--workers``
answering threads in child processes of up to four threads each, so answering never competes with acking
in one interpreter;
``HTTPServer`` runs both in one process (tests, embedding). SIGTERM flips the front door to draining
(new requests get 503, /healthz says so), lets the workers finish the answers in hand (bounded) —
anything still queued stays in the durable queue for the next start — then exits 0.
"""

from __future__ import annotations

import gc
import json
import logging
import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .frontdoor import CLAIM_TTL_S, EVENTS_PATH, HEALTH_PATH, FrontDoor, Limits
from .intake import Intake
from .settings import Settings
from .slack_app import SlackBot
from .state import State

if TYPE_CHECKING:
    from knowledge.base import KnowledgeBase

log = logging.getLogger("careerbot.server")

__all__ = ["EVENTS_PATH", "HEALTH_PATH", "HTTPServer", "Health", "run_http", "run_socket_mode"]

DRAIN_TIMEOUT_S = 20.0
WORKER_THREADS = 4  # answering threads in each worker process
WORKER_START_TIMEOUT_S = 300.0
WORKER_NICE = 10  # worker processes run at a lower CPU priority than the front door


def _pending_of(state: State) -> Callable[[], int]:
    return state.pending


def open_queue(settings: Settings) -> tuple[State, Callable[[], int]]:
    """The shared state (DATABASE_URL or SQLite in the data dir) and a count of unfinished jobs."""
    state = State.from_settings(settings)
    return state, _pending_of(state)


def open_intake(settings: Settings, state: State, pending: Callable[[], int],
                notify: Callable[[], None]) -> tuple[Any, Intake | None, Callable[[], int]]:
    """Where the front door records: its own journal on SQLite (see bot/intake.py), else the shared queue.

    Returns (sink, intake or None, a count of unfinished work including the journal).
    """
    if state.dialect != "sqlite":
        return state, None, pending
    database = state.engine.url.database  # the journal lives beside the database it feeds
    path = (Path(database).with_name(Path(database).stem + ".intake.sqlite3") if database and database != ":memory:"
            else Path(settings.data_dir) / "intake.sqlite3")
    intake = Intake(path, state, claim_ttl_s=CLAIM_TTL_S, notify=notify).start()
    return intake, intake, lambda: intake.pending() + pending()


def limits_for(settings: Settings) -> Limits:
    return Limits(header_timeout_s=settings.http_timeout_s, body_timeout_s=settings.http_timeout_s)


class Health:
    """What /healthz reports: store and database reachable, embedder id, LLM configured, queue depth.

    Never slow: the knowledge store is checked at most every ``ttl_s`` (bounded wait), and the database by a
    background thread every ``db_every_s``; a request reads what it found last. A database not reached in the
    last few checks (down, or a check hanging) makes the replica not ready (503): it can acknowledge nothing.
    """

    def __init__(self, settings: Settings, kb: KnowledgeBase | None, mode: str, *,
                 pending: Callable[[], int] = lambda: 0, ttl_s: float = 5.0, check_timeout_s: float = 1.0,
                 database: bool = True, db_every_s: float = 1.0) -> None:
        self.settings = settings
        self.kb = kb
        self.mode = mode
        self.pending = pending
        self.ttl_s = ttl_s
        self.check_timeout_s = check_timeout_s
        self._checker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="careerbot-health")
        self._pending: Any = None
        self._store: dict[str, Any] = {"ok": False, "detail": "not checked yet"}
        self._checked_at = 0.0
        self._lock = threading.Lock()
        self.draining = False
        self.db_every_s = db_every_s
        self._db: dict[str, Any] = {"ok": False, "detail": "not checked yet"}
        self._db_queued: int | None = None
        self._db_at = 0.0  # monotonic time of the last check that completed
        self._db_first = threading.Event()
        self._closed = threading.Event()
        self._db_thread: threading.Thread | None = None
        if database:
            self._db_thread = threading.Thread(target=self._watch_database, name="careerbot-health-db", daemon=True)
            self._db_thread.start()

    def close(self) -> None:
        self._closed.set()
        self._checker.shutdown(wait=False)

    def _watch_database(self) -> None:
        while not self._closed.is_set():
            try:
                queued: int | None = self.pending()  # one indexed count: reachable, and the queue depth
                result: dict[str, Any] = {"ok": True}
            except Exception as exc:
                queued, result = None, {"ok": False, "detail": f"unreachable ({type(exc).__name__})"}
            with self._lock:
                self._db, self._db_queued, self._db_at = result, queued, time.monotonic()
            self._db_first.set()
            self._closed.wait(self.db_every_s)

    def database(self) -> tuple[dict[str, Any], int | None]:
        """The last database check, and the queue depth it read; not ok when no check completed lately."""
        if self._db_thread is None:
            try:
                return {"ok": True}, self.pending()
            except Exception as exc:
                return {"ok": False, "detail": f"unreachable ({type(exc).__name__})"}, None
        self._db_first.wait(self.check_timeout_s)  # only ever waits before the first check is in
        with self._lock:
            result, queued, at = self._db, self._db_queued, self._db_at
        age = time.monotonic() - at
        if at and age > max(3 * self.db_every_s, 5.0):  # the check itself hangs (a dropped connection)
            return {"ok": False, "detail": f"no answer for {age:.0f} s"}, None
        return result, queued

    def _check_store(self) -> dict[str, Any]:
        if self.kb is None:
            return {"ok": False, "detail": "no knowledge base"}
        try:
            chunks = self.kb.chunk_count()
        except Exception as exc:
            return {"ok": False, "detail": type(exc).__name__}
        return {"ok": chunks > 0, "chunks": chunks, "kind": "server" if self.settings.chroma_host else "embedded"}

    def store(self) -> dict[str, Any]:
        with self._lock:
            if time.monotonic() - self._checked_at < self.ttl_s:
                return self._store
            if self._pending is None or self._pending.done():
                self._pending = self._checker.submit(self._check_store)
            pending = self._pending
        try:
            result = pending.result(timeout=self.check_timeout_s)
        except FutureTimeout:
            result = {"ok": False, "detail": "store check timed out"}
        with self._lock:
            self._store, self._checked_at = result, time.monotonic()
        return result

    def snapshot(self) -> tuple[int, dict[str, Any]]:
        settings = self.settings
        embedder = self.kb.embedder.id if self.kb is not None else None
        store = self.store()
        database, queued = self.database()
        ready = store.get("ok") and database.get("ok")
        status = "draining" if self.draining else ("ok" if ready else "degraded")
        body = {
            "status": status,
            "mode": self.mode,
            "store": store,
            "database": database,
            "embedder": embedder,
            "llm": {"configured": settings.llm_enabled, "model": settings.chat_model if settings.llm_enabled else None},
            "queue": {"pending": queued},
        }
        return (200 if status == "ok" else 503), body


class HTTPServer:
    """Front door and the bot's own job runner in one process: ``start`` serves, ``stop`` drains and closes.

    ``careerbot serve --http`` uses ``run_http`` instead, with worker processes.
    """

    def __init__(self, bot: SlackBot, host: str = "0.0.0.0", port: int = 3000, *,
                 limits: Limits | None = None) -> None:
        self.bot = bot
        self.state, queued = bot.state, _pending_of(bot.state)
        sink, self.intake, self.pending = open_intake(bot.settings, self.state, queued, bot.runner.wake)
        self.health = Health(bot.settings, getattr(bot.pipeline, "kb", None), "http", pending=self.pending)
        self.door = FrontDoor(bot.settings.slack_signing_secret or "", sink, self.health.snapshot, host=host,
                              port=port, limits=limits or limits_for(bot.settings),
                              notify=None if self.intake else bot.runner.wake)
        self.host = host
        self.port = port

    def start(self) -> None:
        self.door.start()
        self.port = self.door.port

    def stop(self, drain_timeout_s: float = DRAIN_TIMEOUT_S) -> bool:
        """503 for new requests, answer what was acknowledged (bounded), then close the listener."""
        self.door.draining = self.health.draining = True
        deadline = time.monotonic() + drain_timeout_s
        while time.monotonic() < deadline and self.pending():
            time.sleep(0.05)
        if self.intake is not None:
            self.intake.stop(max(0.0, deadline - time.monotonic()))
        finished = self.bot.shutdown(max(0.0, deadline - time.monotonic()))
        self.door.stop()
        self.health.close()
        return finished


def wait_for_signal(stop: threading.Event | None = None) -> threading.Event:
    """Install SIGTERM/SIGINT handlers that set ``stop`` (main thread only)."""
    stop = stop or threading.Event()

    def handler(signum: int, _frame: Any) -> None:
        log.info(json.dumps({"kind": "lifecycle", "signal": signal.Signals(signum).name, "outcome": "draining"}))
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
    return stop


def _die_with_parent(parent: int) -> None:
    """A worker dies with its front door (SIGKILL on Linux), as one replica: the queue's leases then hand
    what it held to the next replica, rather than an orphan answering for a replica that is gone."""
    try:
        import ctypes
        import ctypes.util

        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # it died before prctl took effect
        os._exit(0)


def yield_cpu() -> str:
    """Answering yields the CPU to acking: this process and the threads it starts later run at ``nice 10`` and,
    on Linux, under SCHED_BATCH — a worker that wakes never preempts the running front door, which still
    preempts it. Returns what applied ("batch", "nice" or "none").

    Not SCHED_IDLE: measured under load 9–17 on this 2-core machine it starved the answers (last of 200
    answered 88–141 s after the burst against 7–31 s), and one run posted 2 duplicate answers: a starved
    thread holding the GIL or SQLite's write lock stalls the heartbeat and lease extensions of its whole
    process (the likely cause), SCHED_IDLE being per thread but the GIL per process.
    """
    applied = "none"
    try:
        os.nice(WORKER_NICE)
        applied = "nice"
    except OSError:
        pass
    if hasattr(os, "sched_setscheduler") and hasattr(os, "SCHED_BATCH"):
        try:
            os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))  # keeps the nice value's weight
            applied = "batch"
        except OSError:
            pass
    return applied


def freeze_heap() -> None:
    """After start-up, move every object so far out of the garbage collector's view (``gc.freeze``).

    The front door imports the knowledge base and bolt: ~130k long-lived objects. A full collection over them
    took 90-175 ms, all of it with the GIL held — an ack stalled behind it. Frozen, a full collection sees only
    what was made since (a few ms). Objects made at start-up are never collected as cycles: they live as long as
    the process anyway.
    """
    gc.collect()
    gc.freeze()


def _worker_process(settings: Settings, auth: dict[str, Any], threads: int, ready: Any, wake: Any) -> None:
    """A worker process: its own pipeline and bolt app, answering jobs leased from the queue."""
    parent = os.getppid()
    _die_with_parent(parent)
    stop = wait_for_signal()
    configure_logging(settings.log_level, settings.secret_values())
    yield_cpu()
    from .pipeline import build_pipeline

    bot = SlackBot(settings, build_pipeline(settings), auth=auth, workers=threads, start=False)
    bot.warm()  # before any job: the store is opened once, by one thread
    freeze_heap()
    runner = bot.runner
    runner.start()

    def relay_wakes() -> None:  # the front door recorded jobs (a byte on the pipe): cut the runner's poll delay
        while not stop.is_set():
            try:
                if wake.poll(1.0):
                    os.read(wake.fileno(), 65536)
                    runner.wake()
            except (OSError, EOFError):  # the front door is gone; the parent check below ends this process
                return

    threading.Thread(target=relay_wakes, name="careerbot-wake", daemon=True).start()
    ready.set()
    while not stop.wait(0.5):
        if os.getppid() != parent:  # the front door died: finish what is in hand, leave the rest queued
            break
    finished = bot.shutdown(settings.drain_timeout_s)
    log.info(json.dumps({"kind": "lifecycle", "outcome": "worker stopped", "drained": finished}))
    sys.stdout.flush()
    os._exit(0)  # past the drain: no interpreter teardown racing library threads


class WorkerProcesses:
    """``count`` worker processes (spawned, not forked: no locks or threads copied), restarted if one dies."""

    def __init__(self, settings: Settings, auth: dict[str, Any], count: int, threads: int = WORKER_THREADS) -> None:
        self.ctx = multiprocessing.get_context("spawn")
        self.settings, self.auth, self.count, self.threads = settings, auth, count, threads
        self.procs: list[Any] = []
        self.ready: list[Any] = []
        self.pipes: list[int] = []  # write ends: one byte wakes a worker (never blocks: a full pipe is awake enough)
        self._writers: list[Any] = []
        self.stopping = False

    def _spawn(self) -> tuple[Any, Any]:
        ready = self.ctx.Event()
        reader, writer = self.ctx.Pipe(duplex=False)
        proc = self.ctx.Process(target=_worker_process, name="careerbot-worker",
                                args=(self.settings, self.auth, self.threads, ready, reader), daemon=False)
        proc.start()
        reader.close()
        os.set_blocking(writer.fileno(), False)
        self._writers.append(writer)  # keep the Connection objects (and so their fds) alive
        self.pipes.append(writer.fileno())
        return proc, ready

    def wake(self) -> None:
        """Tell every worker that jobs were recorded (called by the front door once per committed batch)."""
        for fd in list(self.pipes):
            try:
                os.write(fd, b"!")
            except BlockingIOError:
                pass
            except OSError:  # that worker is gone
                self.pipes.remove(fd)

    def start(self, timeout_s: float = WORKER_START_TIMEOUT_S) -> bool:
        for _ in range(self.count):
            proc, ready = self._spawn()
            self.procs.append(proc)
            self.ready.append(ready)
        deadline = time.monotonic() + timeout_s
        for proc, ready in zip(self.procs, self.ready, strict=True):
            while not ready.wait(0.2):
                if not proc.is_alive() or time.monotonic() > deadline:
                    return False
        return True

    def check(self, on_death: Callable[[int], None] | None = None) -> None:
        """Replace a worker that died; ``on_death(pid)`` first (so its leased jobs move at once)."""
        for i, proc in enumerate(self.procs):
            if not self.stopping and not proc.is_alive():
                log.warning(json.dumps({"kind": "lifecycle", "outcome": "worker died", "exitcode": proc.exitcode}))
                if on_death is not None and proc.pid is not None:
                    on_death(proc.pid)
                self.procs[i], self.ready[i] = self._spawn()

    def alive_pids(self) -> list[int]:
        return [p.pid for p in self.procs if p.pid is not None and p.is_alive()]


    def stop(self, timeout_s: float) -> None:
        self.stopping = True
        for proc in self.procs:
            if proc.is_alive():
                proc.terminate()  # SIGTERM: the worker drains
        deadline = time.monotonic() + timeout_s + 5
        for proc in self.procs:
            proc.join(timeout=max(0.1, deadline - time.monotonic()))
            if proc.is_alive():
                proc.kill()
                proc.join(timeout=5)


class WorkerBeat:
    """The front door's heartbeat for its worker processes, from its own thread at normal priority.

    Workers run at low CPU priority (``yield_cpu``: nice 10, SCHED_BATCH): on a busy
    host their own heartbeat thread can starve for seconds, and a replica that is only busy would look dead.
    The front door sees its workers alive (``is_alive``) and says so for them every
    ``settings.replica_heartbeat_s``; when a worker dies the
    main loop marks its row gone, and a SIGKILL of the front door takes the workers (PDEATHSIG) and this
    heartbeat with it.
    """

    def __init__(self, state: State, pool: WorkerProcesses, settings: Settings, *, since: float) -> None:
        self.state, self.pool = state, pool
        self.every_s, self.dead_after_s = settings.replica_heartbeat_s, settings.replica_dead_after_s
        self.host = socket.gethostname()
        self.since = since  # rows of workers started since (wall clock, as the rows are): never an older namesake
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="careerbot-worker-beat", daemon=True)
        self._last_error = 0.0

    def start(self) -> WorkerBeat:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def died(self, pid: int) -> None:
        self._safe(lambda: self.state.gone_process(self.host, pid, since=self.since))

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            if not self.pool.stopping:  # a draining worker says gone itself; never revive it
                self._safe(self._beat)

    def _beat(self) -> None:
        self.state.beat_processes(self.host, self.pool.alive_pids(), self.dead_after_s, since=self.since)

    def _safe(self, fn: Callable[[], object]) -> None:
        try:
            fn()
        except Exception as exc:  # the database is away: /healthz says so; the rows go stale, leases hold
            if time.monotonic() - self._last_error > 10:
                self._last_error = time.monotonic()
                log.warning("worker heartbeat failed: %s", type(exc).__name__)


def run_http(settings: Settings, auth: dict[str, Any], kb: KnowledgeBase, host: str, port: int, *, workers: int = 4,
             on_ready: Callable[[FrontDoor], None] | None = None,
             drain_timeout_s: float = DRAIN_TIMEOUT_S) -> int:
    """Front door here, ``workers`` answering threads in child processes; serve until SIGTERM/SIGINT, then drain."""
    stop = wait_for_signal()
    started = time.time()
    state, queued = open_queue(settings)
    processes = -(-workers // WORKER_THREADS)  # ceil: four answering threads a process at most (0: acks only)
    pool = WorkerProcesses(settings, auth, processes, threads=-(-workers // processes) if processes else 0)
    sink, intake, pending = open_intake(settings, state, queued, pool.wake)
    health = Health(settings, kb, "http", pending=pending)
    door = FrontDoor(settings.slack_signing_secret or "", sink, health.snapshot, host=host, port=port,
                     limits=limits_for(settings), notify=None if intake else pool.wake)
    if not pool.start():  # the workers are warm before the front door listens
        log.error("worker processes did not start")
        pool.stop(1)
        if intake is not None:
            intake.stop(5)
        return 1
    beat = WorkerBeat(state, pool, settings, since=started).start()
    freeze_heap()
    door.start()
    if on_ready:
        on_ready(door)
    while not stop.wait(0.5):
        pool.check(on_death=beat.died)
    door.draining = health.draining = True
    if intake is not None:
        intake.stop(5)  # hand what is journaled to the queue, where the next start finds it
    pool.stop(drain_timeout_s)
    beat.stop()
    door.stop()
    health.close()
    log.info(json.dumps({"kind": "lifecycle", "outcome": "stopped", "queued": pending()}))
    return 0


def run_socket_mode(bot: SlackBot, app_token: str, *, on_ready: Callable[[], None] | None = None,
                    drain_timeout_s: float = DRAIN_TIMEOUT_S) -> int:
    """Socket Mode: the same listeners over a WebSocket Slack opens to us (no public URL needed)."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    stop = wait_for_signal()
    handler = SocketModeHandler(bot.app, app_token)
    handler.connect()
    if on_ready:
        on_ready()
    while not stop.wait(0.5):
        pass
    bot.pool.stop_accepting()
    try:
        handler.close()
    except Exception as exc:
        log.debug("socket mode close: %s", type(exc).__name__)
    finished = bot.shutdown(drain_timeout_s)
    log.info(json.dumps({"kind": "lifecycle", "outcome": "stopped", "drained": finished}))
    return 0


class SecretFilter(logging.Filter):
    """Replaces any configured secret value in a log line with ***, whoever logged it."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        try:
            message = record.getMessage()
        except Exception:
            return True
        cleaned = message
        for secret in self.secrets:
            cleaned = cleaned.replace(secret, "***")
        if cleaned != message or record.exc_info:
            if record.exc_info:
                text = logging.Formatter().formatException(record.exc_info)
                for secret in self.secrets:
                    text = text.replace(secret, "***")
                cleaned = f"{cleaned}\n{text}"
                record.exc_info = None
                record.exc_text = None
            record.msg, record.args = cleaned, None
        return True


def configure_logging(level: str, secrets: list[str]) -> None:
    """Root level from CAREERBOT_LOG_LEVEL; Slack SDK debug output (it prints auth headers) never below INFO."""
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(format="%(message)s")
    root.setLevel(getattr(logging, level.upper(), logging.INFO))
    for noisy in ("slack_sdk", "slack_bolt", "urllib3", "httpx", "httpcore", "openai", "chromadb", "alembic"):
        logger = logging.getLogger(noisy)
        if logger.getEffectiveLevel() < logging.INFO or root.level < logging.INFO:
            logger.setLevel(logging.WARNING)
    scrub = SecretFilter(secrets)
    for handler in root.handlers:
        handler.filters = [f for f in handler.filters if not isinstance(f, SecretFilter)]
        handler.addFilter(scrub)
