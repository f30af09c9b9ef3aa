"""Replicas for real: two `careerbot serve --http` processes sharing one PostgreSQL database and one Chroma server.

What a team running two pods sees: a Slack retry that lands on the other replica is not answered twice; a vote
clicked on either replica is joined to its answer; a replica killed with questions in flight, or stopped while
Slack is slow, loses none of the questions it acknowledged, and none is answered twice; the replica still
running takes over a killed one's questions as soon as its heartbeat stops, not when their leases run out; and
a replica that is only slow keeps its questions.
"""

from __future__ import annotations

import json
import signal
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.state import State
from bot.state.store import jobs_t
from knowledge.base import KnowledgeBase
from knowledge.config import KnowledgeConfig
from tests.fakes.bot_server import BotProcess, mention, posts, settings_env
from tests.fakes.chroma_server import ChromaServer
from tests.fakes.postgres_server import PostgresServer
from tests.fakes.slack_server import BOT_USER_ID, Call, FakeSlack, deliver, event_body, form_body

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "Which jobs are most exposed to disruption by LLMs?"
LEASE_S = 3.0


@dataclass
class Cluster:
    slack: FakeSlack
    env: dict[str, str]
    tmp: Path
    database_url: str
    postgres: PostgresServer

    def replica(self, name: str, *, workers: int = 2, **env: str) -> BotProcess:
        data = self.tmp / name
        data.mkdir(exist_ok=True)
        return BotProcess({**self.env, "CAREERBOT_DATA_DIR": str(data), **env}, self.tmp / f"{name}.log",
                          workers=workers)

    def own_database(self, name: str) -> str:
        """A database of the test's own, so the module's running pair does not take its jobs."""
        return self.postgres.create_database(name)


@pytest.fixture(scope="module")
def cluster(postgres: PostgresServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    tmp = tmp_path_factory.mktemp("replicas")
    with ChromaServer(tmp / "chroma") as chroma, FakeSlack() as slack:
        KnowledgeBase(KnowledgeConfig(data_dir=tmp / "ingester", chroma_host=chroma.host,
                                      chroma_port=chroma.port)).ingest([ROOT / "seeds"])
        url = postgres.create_database("replicas")
        env = settings_env(slack, tmp, CHROMA_HOST=chroma.host, CHROMA_PORT=str(chroma.port), DATABASE_URL=url,
                           CAREERBOT_SEEDS_DIR=str(ROOT / "seeds"), CAREERBOT_JOB_LEASE_S=str(LEASE_S),
                           CAREERBOT_LOG_LEVEL="INFO")
        yield Cluster(slack, env, tmp, url, postgres)


@pytest.fixture(scope="module")
def pair(cluster: Cluster) -> Iterator[tuple[BotProcess, BotProcess]]:
    with cluster.replica("a") as a, cluster.replica("b") as b:
        yield a, b


def answers_by_thread(slack: FakeSlack, channel: str) -> Counter[str]:
    return Counter(str(c.params.get("thread_ts")) for c in posts(slack, channel))


def wait_answered(slack: FakeSlack, channel: str, threads: list[str], timeout: float = 90.0) -> Counter[str]:
    """Every thread has a reply (then a quiet moment, so a duplicate would have shown up)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = answers_by_thread(slack, channel)
        if all(got[t] for t in threads):
            time.sleep(1.0)
            return answers_by_thread(slack, channel)
        time.sleep(0.1)
    got = answers_by_thread(slack, channel)
    raise AssertionError(f"unanswered: {[t for t in threads if not got[t]]}")


def our_replies(call: Call) -> bool:
    return (call.params.get("metadata") or {}).get("event_type") == "careerbot_answer"


def test_a_retry_delivered_to_the_other_replica_is_answered_once(pair: tuple[BotProcess, BotProcess],
                                                                 cluster: Cluster) -> None:
    a, b = pair
    body = event_body(mention("C0RETRY", f"<@{BOT_USER_ID}> {QUESTION}", "1800.0001"), "EvReplica1")
    assert deliver(a.events_url, body).status == 200
    assert deliver(b.events_url, body, retry_num=1).status == 200
    assert deliver(b.events_url, body, retry_num=2).status == 200
    got = wait_answered(cluster.slack, "C0RETRY", ["1800.0001"])
    assert got == Counter({"1800.0001": 1})
    [reply] = posts(cluster.slack, "C0RETRY")
    assert our_replies(reply) and "[1]" in reply.params["text"]


def test_a_vote_on_one_replica_is_stored_with_the_question_answered_by_the_other(
        pair: tuple[BotProcess, BotProcess], cluster: Cluster) -> None:
    a, b = pair
    assert deliver(a.events_url, event_body(mention("C0VOTES", f"<@{BOT_USER_ID}> {QUESTION}", "1800.0101"),
                                            "EvReplica2")).status == 200
    wait_answered(cluster.slack, "C0VOTES", ["1800.0101"])
    [reply] = posts(cluster.slack, "C0VOTES")
    down = next(e for e in reply.params["blocks"][-1]["elements"] if e["action_id"] == "feedback_down")
    payload = {"type": "block_actions", "team": {"id": "T0TEST001"}, "user": {"id": "U0VOTER9"},
               "api_app_id": "A0TEST001", "trigger_id": "9.9.9", "channel": {"id": "C0VOTES"},
               "container": {"type": "message", "channel_id": "C0VOTES"},
               "response_url": cluster.slack.response_url("vote9"),
               "message": {"ts": "1700000009.000001", "thread_ts": "1800.0101"},
               "actions": [{"action_id": "feedback_down", "block_id": "feedback", "value": down["value"],
                            "type": "button"}]}
    r = deliver(b.events_url, form_body({"payload": json.dumps(payload)}),
                content_type="application/x-www-form-urlencoded")
    assert r.status == 200
    state = State.open(cluster.database_url)
    try:
        # The front door records the click; a worker on either replica stores the vote: wait for it.
        deadline = time.monotonic() + 60
        while not (votes := [v for v in state.votes() if v.user == "U0VOTER9"]) and time.monotonic() < deadline:
            time.sleep(0.1)
        [vote] = votes
        assert (vote.vote, vote.question) == ("down", QUESTION) and vote.answer
        summary = state.feedback_summary(time.time() - 3600)
        assert any(x.question == QUESTION and x.down for x in summary.lowest)
        assert summary.down_sources and all(s for s, _, _ in summary.down_sources)
    finally:
        state.close()


def test_sigkill_with_questions_in_flight_the_other_replica_answers_each_once(cluster: Cluster) -> None:
    slack = cluster.slack
    threads = [f"1800.02{i:02d}" for i in range(8)]
    url = cluster.own_database("killed")
    with cluster.replica("killed", workers=4, DATABASE_URL=url) as doomed:
        slack.slow("reactions.add", 2.0, times=4)  # the first four answers are in progress when the kill comes
        for i, ts in enumerate(threads):
            body = event_body(mention("C0KILL", f"<@{BOT_USER_ID}> {QUESTION}", ts), f"EvKill{i}")
            assert deliver(doomed.events_url, body).status == 200  # acknowledged: recorded in the database
        time.sleep(0.5)
        assert doomed.proc is not None
        doomed.proc.send_signal(signal.SIGKILL)
        doomed.proc.wait(timeout=10)
    with cluster.replica("survivor", workers=2, DATABASE_URL=url) as survivor:
        got = wait_answered(slack, "C0KILL", threads, timeout=120)
        assert got == Counter({t: 1 for t in threads}), got
        assert '"attempt": 2' in survivor.output()  # it did take over jobs the killed replica held


def leased(state: State) -> list[tuple[str, str, float]]:
    """(job id, worker, lease end) of every leased job."""
    with state.engine.connect() as conn:
        rows = conn.execute(sa.select(jobs_t.c.id, jobs_t.c.worker, jobs_t.c.lease_until)
                            .where(jobs_t.c.status == "leased")).all()
    return [(str(r.id), str(r.worker), float(r.lease_until)) for r in rows]


def test_sigkill_the_running_replica_takes_over_at_once_not_when_the_leases_end(cluster: Cluster) -> None:
    slack = cluster.slack
    threads = [f"1800.05{i:02d}" for i in range(6)]
    url = cluster.own_database("takeover")
    long_lease = {"DATABASE_URL": url, "CAREERBOT_JOB_LEASE_S": "120"}  # expiry cannot be what moves them
    with cluster.replica("survivor2", workers=2, **long_lease) as survivor, State.open(url) as state:
        with cluster.replica("doomed", workers=4, **long_lease) as doomed:
            doomed_worker = max(state.replicas(), key=lambda r: r["started"])["id"]
            slack.slow("reactions.add", 8.0, times=len(threads))  # every question is in progress at the kill
            for i, ts in enumerate(threads):
                body = event_body(mention("C0TAKE", f"<@{BOT_USER_ID}> {QUESTION}", ts), f"EvTake{i}")
                assert deliver(doomed.events_url, body).status == 200
            deadline = time.monotonic() + 60
            while len(held := leased(state)) < len(threads):  # the survivor's two threads hold two at most
                assert time.monotonic() < deadline, held
                time.sleep(0.05)
            orphans = [(job, until) for job, worker, until in held if worker == doomed_worker]
            assert len(orphans) >= len(threads) - 2
            assert doomed.proc is not None
            doomed.proc.send_signal(signal.SIGKILL)
            doomed.proc.wait(timeout=10)
        lease_end = min(until for _, until in orphans)
        while not all(answers_by_thread(slack, "C0TAKE")[t] for t in threads):
            assert time.time() < lease_end, "the killed replica's questions waited for their leases to run out"
            time.sleep(0.1)
        got = wait_answered(slack, "C0TAKE", threads)
        assert got == Counter({t: 1 for t in threads}), got
        assert time.time() < lease_end  # all answered, once each, while the dead replica's leases still ran
        with state.engine.connect() as conn:
            rows = conn.execute(sa.select(jobs_t.c.id, jobs_t.c.status, jobs_t.c.attempts)).all()
        taken_over = {str(r.id): (r.status, r.attempts) for r in rows if str(r.id) in dict(orphans)}
        assert taken_over == {job: ("done", 2) for job, _ in orphans}
        assert '"attempt": 2' in survivor.output()
        assert [r["stopped"] for r in state.replicas() if r["id"] == doomed_worker] == [None]  # killed, not stopped


def test_a_slow_replica_keeps_its_questions(pair: tuple[BotProcess, BotProcess], cluster: Cluster) -> None:
    a, b = pair
    threads = [f"1800.06{i:02d}" for i in range(4)]
    # slower than a lease (3 s) and than a heartbeat's grace (3 s): only a live replica's heartbeat keeps them
    cluster.slack.slow("reactions.add", 8.0, times=len(threads))
    for i, ts in enumerate(threads):
        body = event_body(mention("C0SLOW", f"<@{BOT_USER_ID}> {QUESTION}", ts), f"EvSlow{i}")
        assert deliver((a, b)[i % 2].events_url, body).status == 200
    got = wait_answered(cluster.slack, "C0SLOW", threads)
    assert got == Counter({t: 1 for t in threads}), got
    with State.open(cluster.database_url) as state, state.engine.connect() as conn:
        attempts = conn.execute(sa.select(jobs_t.c.attempts).where(jobs_t.c.payload.contains("C0SLOW"))).scalars()
        assert set(attempts) == {1}  # nobody took one over


def test_sigterm_with_slow_slack_every_acknowledged_question_is_answered_once(cluster: Cluster) -> None:
    slack = cluster.slack
    threads = [f"1800.03{i:02d}" for i in range(6)]
    slack.slow("chat.postMessage", 5.0, times=len(threads))
    url = cluster.own_database("stopped")
    with cluster.replica("stopped", workers=2, CAREERBOT_DRAIN_TIMEOUT_S="2", DATABASE_URL=url) as stopped:
        for i, ts in enumerate(threads):
            body = event_body(mention("C0TERM", f"<@{BOT_USER_ID}> {QUESTION}", ts), f"EvTerm{i}")
            assert deliver(stopped.events_url, body).status == 200
        time.sleep(1.0)
        assert stopped.stop() == 0  # drains for 2 s, hands the rest back, exits 0
        assert "handed back" in stopped.output()
    with cluster.replica("next", workers=2, DATABASE_URL=url), State.open(url) as state:
        got = wait_answered(slack, "C0TERM", threads, timeout=120)
        deadline = time.monotonic() + 60  # the replies that were in flight: their jobs are closed too
        while state.counts().get("queued") or state.counts().get("leased"):
            assert time.monotonic() < deadline, state.counts()
            time.sleep(0.2)
    assert got == Counter({t: 1 for t in threads}), got
    assert answers_by_thread(slack, "C0TERM") == got


def test_nothing_is_left_in_the_queue_or_failed(cluster: Cluster) -> None:
    for url in (cluster.database_url, cluster.postgres.url("killed"), cluster.postgres.url("stopped"),
                cluster.postgres.url("takeover")):
        with State.open(url) as state:
            counts = state.counts()
        assert not counts.get("queued") and not counts.get("leased") and not counts.get("failed"), (url, counts)
