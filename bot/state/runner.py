"""Workers that lease jobs from the shared queue and run them: the answering side of the bot.

    runner = JobRunner(state, {"event": handle_event, ...}, workers=4, lease_s=30)
    runner.start()
    state.enqueue("event", payload); runner.wake()      # wake() only cuts the poll delay
    runner.drain(20)                                    # SIGTERM: stop leasing, finish, release the rest

A handler gets the ``Job`` and returns the ts of the message it posted (or None); the runner then marks the
job done. A handler that raises marks it failed (it must have told the user itself).

Liveness: the runner registers a row in the shared database (``State.register``) and a heartbeat thread
refreshes it every ``heartbeat_s``; while it beats, its leases hold (and are extended), so a slow answer is
not taken over by another replica. A runner killed outright stops beating, and ``dead_after_s`` later (a few
beats, not the ``lease_s`` of its jobs) every job it held is leasable by the other replicas; one that drains on
SIGTERM says it is gone at the end of its drain, so what it handed back moves at once. ``lease_s`` stays the
backstop (a database that lost the row, a runner of an older release). A handler calls ``mark_posting`` just
before it posts its reply: False when the job was taken over meanwhile (a replica that only looked dead — a
stall, a lost database connection), and then it does not post, so the question is answered once.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable

from .store import Job, State

log = logging.getLogger("careerbot.jobs")

Handler = Callable[[Job], str | None]


class JobRunner:
    def __init__(self, state: State, handlers: dict[str, Handler], *, workers: int = 4, lease_s: float = 30.0,
                 poll_s: float = 0.25, name: str | None = None, kinds: Iterable[str] | None = None,
                 heartbeat_s: float = 1.0, dead_after_s: float | None = None) -> None:
        self.state = state
        self.handlers = dict(handlers)
        self.lease_s = lease_s
        self.poll_s = poll_s
        self.heartbeat_s = max(0.01, heartbeat_s)
        self.dead_after_s = dead_after_s if dead_after_s is not None else 3 * self.heartbeat_s
        self.kinds = list(kinds) if kinds is not None else list(self.handlers)
        self.worker_id = name or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._workers = workers
        self._threads: list[threading.Thread] = []
        self._running: dict[str, Job] = {}
        self._posting: set[str] = set()
        self._abandoned: set[str] = set()  # jobs whose reply this runner did not post: not its to close
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._wake = threading.Condition()  # wake() rouses one idle worker, not all of them
        self._accepting = True
        self._stopped = threading.Event()
        self._last_error = 0.0
        self._beat: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------------------------
    def start(self) -> JobRunner:
        try:  # before the first lease: a job is never held by a runner without its row
            self.state.register(self.worker_id, self.dead_after_s, host=socket.gethostname(), pid=os.getpid())
        except Exception as exc:  # no row: its leases still expire after lease_s
            self._complain("register", exc)
        for i in range(self._workers):
            t = threading.Thread(target=self._run, name=f"careerbot-job-{i}", daemon=True)
            t.start()
            self._threads.append(t)
        beat = threading.Thread(target=self._heartbeat, name="careerbot-job-heartbeat", daemon=True)
        beat.start()
        self._beat = beat
        self._threads.append(beat)
        return self

    @property
    def pending(self) -> int:
        """Jobs running in this process now."""
        with self._lock:
            return len(self._running)

    @property
    def accepting(self) -> bool:
        return self._accepting

    def mark_posting(self, job_id: str) -> bool:
        """The job's reply is about to go to Slack. False: another replica took the job over (it thought this one
        dead) or the database cannot say — do not post; the job is left to whoever holds it, or released.

        While posting, a shutdown leaves the job to its lease rather than releasing it at once.
        """
        with self._lock:
            if job_id not in self._running:
                return True  # not a job of this runner's (a direct call)
            self._posting.add(job_id)
        try:
            mine = self.state.holds(job_id, self.worker_id)
        except Exception as exc:
            self._complain("holds", exc)
            mine = False
        if not mine:
            with self._lock:
                self._abandoned.add(job_id)
            log.warning("job %s was taken over by another worker: not posting", job_id)
        return mine

    def wake(self) -> None:
        with self._wake:
            self._wake.notify()

    def stop_accepting(self) -> None:
        """Lease nothing more (jobs already running go on)."""
        self._accepting = False
        with self._wake:
            self._wake.notify_all()

    def drain(self, timeout_s: float, in_flight_s: float = 15.0) -> bool:
        """Stop leasing, wait up to ``timeout_s`` for running jobs, then hand back the ones still running.

        True when every job this process held finished. A job that had not started posting is released: queued
        again at once, for another replica (or this one, restarted). A job whose reply was in flight keeps its
        lease for ``in_flight_s`` more (the Slack client's timeout), so whoever takes it next can see in the
        thread whether the reply arrived. Either way its next attempt counts as recovered.
        """
        self.stop_accepting()
        with self._idle:
            finished = self._idle.wait_for(lambda: not self._running, timeout=max(0.0, timeout_s))
            left = list(self._running)
            posting = [j for j in left if j in self._posting]
        self._stopped.set()  # no more heartbeats
        for job_id in left:
            try:
                if job_id in posting:
                    self.state.hand_off(job_id, self.worker_id, in_flight_s)
                else:
                    self.state.release(job_id)
            except Exception as exc:  # the runner's row goes stale below, and the job moves then
                log.warning("handing back job %s failed: %s", job_id, type(exc).__name__)
        if self._beat is not None:
            self._beat.join(timeout=5)  # a beat in progress must not land after the row says gone
        self._safe(self.state.gone, self.worker_id)
        if left:
            log.warning("shutdown: %d unfinished job(s) handed back to the queue", len(left))
        return finished

    # -- the loop -------------------------------------------------------------------------------------------
    def _run(self) -> None:
        while self._accepting:
            try:
                job = self.state.lease(self.worker_id, self.lease_s, self.kinds)
            except Exception as exc:
                self._complain("lease", exc)
                self._stopped.wait(1.0)
                continue
            if job is None:
                with self._wake:
                    if self._accepting:
                        self._wake.wait(self.poll_s)
                continue
            if not self._accepting:  # SIGTERM arrived while leasing: give it straight back
                self._safe(self.state.release, job.id)
                return
            with self._lock:
                self._running[job.id] = job
            try:
                self._execute(job)
            finally:
                with self._idle:
                    self._running.pop(job.id, None)
                    self._posting.discard(job.id)
                    self._abandoned.discard(job.id)
                    if not self._running:
                        self._idle.notify_all()

    def _execute(self, job: Job) -> None:
        handler = self.handlers.get(job.kind)
        if handler is None:
            self._safe(self.state.fail, job.id, f"no handler for {job.kind}")
            return
        try:
            reply_ts = handler(job)
        except Exception as exc:
            log.error("job %s (%s) failed: %s", job.id, job.kind, type(exc).__name__)
            self._safe(self.state.fail, job.id, type(exc).__name__)
            return
        with self._lock:
            abandoned = job.id in self._abandoned
        if abandoned:  # taken over: the other worker closes it; if the database could not tell, hand it back
            self._safe(self.state.release, job.id, self.worker_id)
            return
        self._safe(self.state.done, job.id, reply_ts)

    def _heartbeat(self) -> None:
        """Every ``heartbeat_s``: this runner is alive; every third of ``lease_s``: its running jobs' leases."""
        extend_every = max(0.2, self.lease_s / 3)
        extended = time.monotonic()
        while not self._stopped.wait(min(self.heartbeat_s, extend_every)):
            self._safe(self._beat_once)
            if time.monotonic() - extended >= extend_every:
                extended = time.monotonic()
                with self._lock:
                    ids = list(self._running)
                if ids:
                    self._safe(self.state.extend, ids, self.worker_id, self.lease_s)

    def _beat_once(self) -> None:
        if not self.state.beat(self.worker_id, self.dead_after_s) and not self._stopped.is_set():
            # the row was swept (or never written): write it again; jobs taken meanwhile are the other's now
            self.state.register(self.worker_id, self.dead_after_s, host=socket.gethostname(), pid=os.getpid())

    def _safe(self, fn: Callable[..., object], *args: object) -> None:
        try:
            fn(*args)
        except Exception as exc:
            self._complain(getattr(fn, "__name__", "state"), exc)

    def _complain(self, what: str, exc: Exception) -> None:
        now = time.monotonic()
        if now - self._last_error > 10:  # one line per 10 s while the database is away
            self._last_error = now
            log.warning("job queue %s failed: %s", what, type(exc).__name__)
