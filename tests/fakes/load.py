"""A paced burst of signed app_mention events, and what became of each: the load driver.

Used by tests/test_load.py (smoke size) and benchmarks/load.py (full size) against a running bot
(``careerbot serve --http`` from tests/fakes/bot_server.py) and the fake Slack. Events are sent at an
even pace over ``seconds`` (each on its own thread, so a slow ack never delays the next send), every
``real_every``-th one a real career question and the rest bare mentions (the help reply), from
distinct users so the per-user rate limit does not apply.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.slack_server import BOT_USER_ID, FakeSlack, deliver, event_body

QUESTIONS = [
    "Which jobs are most exposed to disruption by LLMs?",
    "What skills does a machine learning engineer need?",
    "How do I move from data science into LLM work?",
    "推荐算法工程师如何转型大模型推理？",
]


@dataclass
class LoadResult:
    sent: int
    acks: list[float] = field(default_factory=list)  # seconds per HTTP ack
    statuses: Counter[int] = field(default_factory=Counter)
    answered: int = 0  # threads with at least one reply
    duplicates: int = 0  # replies beyond the first in a thread
    missing: list[str] = field(default_factory=list)  # threads with no reply
    send_seconds: float = 0.0
    answer_seconds: float = 0.0  # from the first send until the last reply

    @property
    def slowest_ack(self) -> float:
        return max(self.acks) if self.acks else 0.0

    def percentile(self, p: float) -> float:
        xs = sorted(self.acks)
        if not xs:
            return 0.0
        k = (len(xs) - 1) * p / 100
        lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
        return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def fire(events_url: str, slack: FakeSlack, *, events: int, seconds: float, channel: str, tag: str,
         real_every: int = 5, answer_timeout: float = 300.0, retries: int = 0) -> LoadResult:
    """Send ``events`` mentions evenly over ``seconds``; wait for the replies; count them per thread."""
    result = LoadResult(sent=events)
    lock = threading.Lock()
    threads: list[str] = []
    bodies: list[tuple[bytes, int | None]] = []
    for i in range(events):
        ts = f"{1900 + len(tag)}.{i:06d}"
        question = QUESTIONS[(i // real_every) % len(QUESTIONS)] if i % real_every == 0 else ""
        ev = {"type": "app_mention", "user": f"U0{tag}{i:05d}", "text": f"<@{BOT_USER_ID}> {question}", "ts": ts,
              "channel": channel, "event_ts": ts}
        threads.append(ts)
        bodies.append((event_body(ev, f"Ev{tag}{i}"), None))
    for i in range(min(retries, events)):  # Slack re-delivering some events: must not be answered twice
        bodies.append((bodies[i][0], 1))

    def send(item: tuple[bytes, int | None]) -> None:
        body, retry = item
        r = deliver(events_url, body, retry_num=retry, timeout=30)
        with lock:
            result.acks.append(r.seconds)
            result.statuses[r.status] += 1

    gap = seconds / max(1, len(bodies))
    t0 = time.monotonic()
    with ThreadPoolExecutor(max_workers=64) as pool:
        for k, item in enumerate(bodies):
            delay = t0 + k * gap - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            pool.submit(send, item)
        result.send_seconds = time.monotonic() - t0
    wanted = set(threads)
    deadline = time.monotonic() + answer_timeout
    while time.monotonic() < deadline:
        if wanted <= set(_threads(slack, channel)):
            break
        time.sleep(0.1)
    time.sleep(1.0)  # any duplicate would arrive now
    per_thread = Counter(_threads(slack, channel))
    result.answer_seconds = max((c.at for c in slack.calls("chat.postMessage") if c.params.get("channel") == channel),
                                default=t0) - t0
    result.answered = sum(1 for t in threads if per_thread[t] >= 1)
    result.duplicates = sum(max(0, per_thread[t] - 1) for t in threads)
    result.missing = [t for t in threads if per_thread[t] == 0]
    return result


def _threads(slack: FakeSlack, channel: str) -> list[str]:
    out: list[Any] = [c.params.get("thread_ts") for c in slack.calls("chat.postMessage", ok_only=True)
                      if c.params.get("channel") == channel]
    return [str(t) for t in out]
