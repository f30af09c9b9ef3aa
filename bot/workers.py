"""A bounded worker pool: the HTTP thread acks, a worker answers.

Retrieval and the LLM take seconds; Slack wants an ack within 3. Listeners only enqueue; a fixed
number of threads drain the queue. The queue is bounded so a flood cannot grow memory without
limit (``submit`` returns False and the caller posts a "busy" notice), and ``drain`` lets a
graceful shutdown finish the answers already accepted.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)

Job = Callable[[], None]


class WorkerPool:
    def __init__(self, workers: int = 4, max_queue: int = 1000, name: str = "careerbot-worker") -> None:
        self._queue: queue.Queue[Job | None] = queue.Queue(maxsize=max_queue)
        self._lock = threading.Lock()
        self._pending = 0  # queued + running
        self._idle = threading.Condition(self._lock)
        self._accepting = True
        self._threads = [threading.Thread(target=self._run, name=f"{name}-{i}", daemon=True) for i in range(workers)]
        for t in self._threads:
            t.start()

    @property
    def pending(self) -> int:
        with self._lock:
            return self._pending

    @property
    def accepting(self) -> bool:
        return self._accepting

    def submit(self, job: Job) -> bool:
        """Queue ``job``; False when the pool is full or shutting down."""
        with self._lock:
            if not self._accepting:
                return False
            self._pending += 1
        try:
            self._queue.put_nowait(job)
        except queue.Full:
            self._done()
            return False
        return True

    def stop_accepting(self) -> None:
        self._accepting = False

    def drain(self, timeout_s: float) -> bool:
        """Stop taking jobs and wait up to ``timeout_s`` for queued and running ones; True when all finished."""
        self.stop_accepting()
        with self._idle:
            finished = self._idle.wait_for(lambda: self._pending == 0, timeout=timeout_s)
        for _ in self._threads:
            try:
                self._queue.put_nowait(None)
            except queue.Full:
                break
        return finished

    def _done(self) -> None:
        with self._idle:
            self._pending -= 1
            if self._pending == 0:
                self._idle.notify_all()

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            try:
                job()
            except Exception:  # a job reports its own failures; this only keeps the worker alive
                log.exception("worker job failed")
            finally:
                self._done()
