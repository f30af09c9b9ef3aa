"""The shared store on both backends: SQLite (the laptop default) and a real PostgreSQL server.

"Two replicas" here are two State objects on the same database (their own engines and connection pools),
hammered from threads, so the races are real ones and not lock-free by luck.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.settings import Settings
from bot.state import Job, JobRunner, State, StateError, Verdict
from bot.state.store import default_url, replicas_t, safe_url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return default_url(tmp_path / "data")
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def replicas(db_url: str) -> Iterator[tuple[State, State]]:
    a, b = State.open(db_url), State.open(db_url)
    yield a, b
    a.close()
    b.close()


def wait_until(check: Callable[[], object], timeout: float = 10.0) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


# -- claims -----------------------------------------------------------------------------------------------------
def test_a_claim_is_taken_once_across_replicas_and_expires(replicas: tuple[State, State]) -> None:
    a, b = replicas
    assert a.claim("Ev1", "msg:C1:1.0", ttl_s=60) is True
    assert b.claim("Ev1", ttl_s=60) is False
    assert b.claim("Ev2", "msg:C1:1.0", ttl_s=60) is False  # the same message delivered under another event id
    assert b.claim("Ev2", ttl_s=60) is True  # a refused multi-key claim took none of its keys
    assert a.claim("Ev3", ttl_s=0.05) is True
    assert wait_until(lambda: b.claim("Ev3", ttl_s=60))  # an expired claim is taken over
    assert a.claim("x" * 1000) is True and b.claim("x" * 1000) is False  # long keys are hashed, not cut


def test_racing_claims_have_one_winner(replicas: tuple[State, State]) -> None:
    a, b = replicas
    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(lambda i: (a if i % 2 else b).claim(f"Ev{i // 8}", ttl_s=60), range(160)))
    assert sum(results) == 20  # 20 keys, 8 racers each


# -- the queue ------------------------------------------------------------------------------------------------------
def test_enqueue_with_a_held_claim_records_nothing(replicas: tuple[State, State]) -> None:
    a, b = replicas
    first = a.enqueue("event", {"q": "one"}, claims=["Ev9"])
    assert first is not None
    assert b.enqueue("event", {"q": "again"}, claims=["Ev9"]) is None
    job = b.lease("w2", 30)
    assert job is not None and job.id == first and job.payload == {"q": "one"} and not job.recovered
    assert a.lease("w1", 30) is None


def test_every_job_is_leased_by_exactly_one_worker(replicas: tuple[State, State]) -> None:
    a, b = replicas
    ids = {a.enqueue("event", {"i": i}) for i in range(60)}
    taken: list[str] = []
    lock = threading.Lock()

    def worker(state: State, name: str) -> None:
        while (job := state.lease(name, 60)) is not None:
            with lock:
                taken.append(job.id)
            state.done(job.id, reply_ts=f"{job.payload['i']}.0")

    threads = [threading.Thread(target=worker, args=(s, f"w{i}")) for i, s in enumerate([a, b] * 4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert Counter(taken) == Counter(ids)  # each once
    assert a.counts() == {"done": 60}


def test_an_expired_lease_is_taken_again_and_marked_recovered(replicas: tuple[State, State]) -> None:
    a, b = replicas
    job_id = a.enqueue("event", {"q": "slow"})
    first = a.lease("dead-worker", 0.05)
    assert first is not None and first.attempts == 1
    again = wait_until(lambda: b.lease("w2", 30))
    assert isinstance(again, Job) and again.id == job_id and again.recovered
    assert a.lease("w1", 30) is None  # held by w2 now
    b.done(job_id)
    assert a.job_status(job_id) == "done"


def test_a_heartbeat_keeps_a_lease_and_release_gives_it_back(replicas: tuple[State, State]) -> None:
    a, b = replicas
    job_id = a.enqueue("event", {})
    assert job_id is not None
    assert a.lease("w1", 0.2) is not None
    a.extend([job_id], "w1", 60)
    time.sleep(0.3)  # past the first lease: the extension holds
    assert b.lease("w2", 30) is None
    a.release(job_id)
    back = b.lease("w2", 30)
    assert back is not None and back.id == job_id and back.recovered


def test_lease_only_takes_the_kinds_asked_for(replicas: tuple[State, State]) -> None:
    a, _ = replicas
    a.enqueue("command", {"n": 1})
    a.enqueue("event", {"n": 2})
    job = a.lease("w", 30, kinds=["event"])
    assert job is not None and job.kind == "event"
    assert a.lease("w", 30, kinds=["event"]) is None


# -- rate limits and feedback ------------------------------------------------------------------------------------
def test_rate_limit_is_shared_and_notifies_once_per_window(replicas: tuple[State, State]) -> None:
    a, b = replicas
    verdicts = [(a if i % 2 else b).hit_rate_limit("U1", 3, 3600) for i in range(6)]
    assert verdicts == [Verdict.ALLOW] * 3 + [Verdict.NOTIFY, Verdict.SILENT, Verdict.SILENT]
    assert a.hit_rate_limit("U2", 3, 3600) is Verdict.ALLOW
    assert a.hit_rate_limit("U1", 0, 3600) is Verdict.ALLOW  # limit 0: off


def test_a_vote_on_one_replica_joins_the_answer_stored_by_the_other(replicas: tuple[State, State]) -> None:
    a, b = replicas
    sources = [{"n": 1, "source": "roles.md", "title": "Roles"}, {"n": 2, "source": "pay.md", "title": "Pay"}]
    good = a.record_answer(question="What does an ML engineer do?", answer="Builds models [1].", sources=sources[:1],
                           mode="extractive", user="U1", channel="C1", channel_type="channel", job_id="j1")
    bad = a.record_answer(question="Pay?", answer="Unclear [2].", sources=sources, mode="llm", user="U1",
                          channel="D1", channel_type="im")
    a.done("j1", reply_ts="1700.01")
    assert b.record_vote(good, "U2", "up") is True
    assert b.record_vote(bad, "U2", "up") is True
    assert b.record_vote(bad, "U2", "down") is True  # changed their mind: one vote
    assert b.record_vote(bad, "U3", "down") is True
    assert b.record_vote("nope", "U3", "up") is False
    votes = {(v.user, v.vote, v.question) for v in a.votes()}
    assert votes == {("U2", "up", "What does an ML engineer do?"), ("U2", "down", "Pay?"), ("U3", "down", "Pay?"),
                     ("U3", "up", None)}
    assert (a.answer(good) or {})["message_ts"] == "1700.01"
    summary = b.feedback_summary(time.time() - 3600)
    assert (summary.up, summary.down, summary.votes_unknown, summary.answers) == (2, 2, 1, 2)
    assert [x.question for x in summary.lowest] == ["Pay?", "What does an ML engineer do?"]
    assert summary.lowest[0].sources == sources
    assert summary.down_sources == [("pay.md", "Pay", 1), ("roles.md", "Roles", 1)]
    assert b.feedback_summary(time.time() + 60).lowest == []


# -- schema -----------------------------------------------------------------------------------------------------------
def test_replicas_starting_together_upgrade_the_schema_once(db_url: str) -> None:
    with ThreadPoolExecutor(max_workers=4) as pool:
        states = list(pool.map(lambda _: State.open(db_url), range(4)))
    assert all(s.claim(f"k{i}") for i, s in enumerate(states))
    for s in states:
        s.migrate()  # idempotent
        s.close()


def test_an_unreachable_database_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StateError) as err:
        State.open("postgresql://careerbot:s3cret-pass@127.0.0.1:1/careerbot")
    assert "s3cret-pass" not in str(err.value) and "127.0.0.1:1" in str(err.value)
    with pytest.raises(StateError):
        State.open("mysql://x@y/z")
    assert "s3cret" not in safe_url("postgresql://u:s3cret@h/d")


def test_settings_database_url_and_chroma_options(tmp_path: Path) -> None:
    s = Settings.from_env({"CAREERBOT_DATA_DIR": str(tmp_path)}, dotenv=False)
    assert s.state_url() == f"sqlite:///{tmp_path.resolve() / 'careerbot.sqlite3'}"
    s = Settings.from_env({"DATABASE_URL": "postgresql://bot:pa55word-x@db:5432/careerbot", "CHROMA_HOST": "c",
                           "CHROMA_SSL": "true", "CHROMA_API_KEY": "ck-secret-1", "CHROMA_TENANT": "t1",
                           "CHROMA_DATABASE": "d1", "CAREERBOT_ADMINS": "U1, U2"}, dotenv=False)
    assert s.state_url().startswith("postgresql://") and s.admins == ("U1", "U2")
    k = s.knowledge()
    assert (k.chroma_ssl, k.chroma_api_key, k.chroma_tenant, k.chroma_database) == (True, "ck-secret-1", "t1", "d1")
    assert "pa55word-x" in s.secret_values() and "ck-secret-1" in s.secret_values()
    assert "pa55word" not in repr(s) and "ck-secret" not in repr(s) and "ck-secret" not in repr(k)


# -- the runner ----------------------------------------------------------------------------------------------
def test_runners_on_two_replicas_run_each_job_once_and_drain_releases_the_rest(
        replicas: tuple[State, State]) -> None:
    a, b = replicas
    ran: list[int] = []
    gate = threading.Event()
    lock = threading.Lock()

    def handle(job: Job) -> str:
        if job.payload.get("slow"):
            gate.wait(30)
        with lock:
            ran.append(int(job.payload["i"]))
        return f"{job.payload['i']}.0"

    ra = JobRunner(a, {"event": handle}, workers=2, lease_s=5, poll_s=0.05).start()
    rb = JobRunner(b, {"event": handle}, workers=2, lease_s=5, poll_s=0.05).start()
    for i in range(40):
        (a if i % 2 else b).enqueue("event", {"i": i})
    wait_until(lambda: len(ran) == 40, timeout=60)
    wait_until(lambda: ra.pending + rb.pending == 0)  # the last fast job has left its worker too
    slow = a.enqueue("event", {"i": 99, "slow": True})
    assert slow is not None
    wait_until(lambda: ra.pending + rb.pending == 1)
    holder, other = (ra, rb) if ra.pending else (rb, ra)
    other.drain(5)
    assert holder.drain(0.1) is False  # still running: released to the queue
    assert a.job_status(slow) == "queued"
    assert sorted(ran) == list(range(40))
    gate.set()


def test_admit_is_the_ack_path_in_one_transaction(replicas: tuple[State, State]) -> None:
    a, b = replicas
    first = a.admit("event", {"n": 1}, claims=["event:E1", "msg:C:1"], user="U1", limit=2, notice_kind="notice")
    assert not first.duplicate and first.verdict is Verdict.ALLOW and first.job_id
    again = b.admit("event", {"n": 1}, claims=["event:E1"], user="U1", limit=2, notice_kind="notice")
    assert again.duplicate and again.job_id is None  # a retry: not counted against the limit either
    second = b.admit("event", {"n": 2}, claims=["event:E2"], user="U1", limit=2, notice_kind="notice")
    third = a.admit("event", {"n": 3}, claims=["event:E3"], user="U1", limit=2, notice_kind="notice")
    fourth = b.admit("event", {"n": 4}, claims=["event:E4"], user="U1", limit=2, notice_kind="notice")
    assert (second.verdict, third.verdict, fourth.verdict) == (Verdict.ALLOW, Verdict.NOTIFY, Verdict.SILENT)
    assert fourth.job_id is None
    kinds = []
    while (job := a.lease("w", 30)) is not None:
        kinds.append((job.kind, job.payload["n"]))
    assert kinds == [("event", 1), ("event", 2), ("notice", 3)]


# -- replica liveness ----------------------------------------------------------------------------------------------
def test_a_dead_workers_jobs_move_at_once_and_a_live_or_in_flight_ones_stay(replicas: tuple[State, State]) -> None:
    a, b = replicas
    a.register("w-dead", dead_after_s=0.2)  # stops beating (SIGKILL)
    a.register("w-live", dead_after_s=60)  # beats, however slow its answer
    a.register("w-posting", dead_after_s=60)
    first, second, third = (a.enqueue("event", {"n": n}) for n in range(3))
    assert first and second and third
    for worker in ("w-dead", "w-live", "w-posting"):
        assert a.lease(worker, 600) is not None  # leases far longer than this test
    taken = wait_until(lambda: b.lease("w-b", 600))  # once w-dead misses its beats, not when its lease ends
    assert isinstance(taken, Job) and taken.id == first and taken.recovered
    assert b.lease("w-b", 600) is None  # w-live's and w-posting's leases hold
    assert a.beat("w-live", 60) is True
    a.gone("w-live")  # a clean stop, after its drain: what it still held moves now
    moved = b.lease("w-b", 600)
    assert moved is not None and moved.id == second and moved.recovered
    assert a.beat("w-live", 60) is False  # a late beat does not bring it back
    a.hand_off(third, "w-posting", 600)  # stopped with the reply on its way: held for the Slack timeout
    a.gone("w-posting")
    assert b.lease("w-b", 600) is None
    assert {r["id"]: r["stopped"] is not None for r in a.replicas()} == {"w-dead": False, "w-live": True,
                                                                          "w-posting": True}


def test_a_parent_keeps_its_worker_processes_alive_and_reports_their_death(replicas: tuple[State, State]) -> None:
    a, b = replicas
    since = time.time()
    a.register("w-old", dead_after_s=0.2, host="pod-1", pid=41)  # an earlier incarnation of the same pod and pid
    a.register("w-41", dead_after_s=0.2, host="pod-1", pid=41)
    a.register("w-42", dead_after_s=0.2, host="pod-1", pid=42)
    with a.engine.begin() as conn:  # the old one started before this parent did
        conn.execute(sa.update(replicas_t).where(replicas_t.c.id == "w-old").values(started=since - 60))
    jobs = {a.enqueue("event", {"n": n}): w for n, w in enumerate(("w-old", "w-41", "w-42"))}
    for worker in jobs.values():
        assert a.lease(worker, 600) is not None
    beat = threading.Event()

    def parent() -> None:  # its workers' own beats starve (idle CPU priority): the parent beats for them
        while not beat.wait(0.05):
            a.beat_processes("pod-1", [41, 42], 0.2, since=since)

    threading.Thread(target=parent, daemon=True).start()
    try:
        moved = wait_until(lambda: b.lease("w-b", 600))  # only the old namesake's job is free
        assert isinstance(moved, Job) and jobs[moved.id] == "w-old"
        wait_until(lambda: all(r["last_seen"] > since + 1.0 for r in b.replicas() if r["id"] != "w-old"))
        assert b.lease("w-b", 600) is None
        a.gone_process("pod-1", 42, since=since)  # the parent saw worker 42 die
        moved = b.lease("w-b", 600)
        assert moved is not None and jobs[moved.id] == "w-42"
        assert b.lease("w-b", 600) is None
    finally:
        beat.set()


def test_a_slow_runner_keeps_its_job_while_another_polls(replicas: tuple[State, State]) -> None:
    a, b = replicas
    started, finish = threading.Event(), threading.Event()
    ran: list[tuple[str, str]] = []

    def slow(job: Job) -> None:
        started.set()
        finish.wait(60)
        ran.append(("a", job.id))

    def fast(job: Job) -> None:
        ran.append(("b", job.id))

    ra = JobRunner(a, {"event": slow}, workers=1, lease_s=600, poll_s=0.02, heartbeat_s=0.05, dead_after_s=1.0)
    rb = JobRunner(b, {"event": fast}, workers=1, lease_s=600, poll_s=0.02, heartbeat_s=0.05, dead_after_s=1.0)
    ra.start()
    try:
        job_id = a.enqueue("event", {})
        assert job_id is not None and started.wait(30)
        leased_at = time.time()
        rb.start()
        # several dead-after spans go by with rb polling, while ra's heartbeat keeps its row alive
        wait_until(lambda: any(r["id"] == ra.worker_id and r["last_seen"] > leased_at + 3 * ra.dead_after_s
                               for r in b.replicas()), timeout=30)
        assert a.job_status(job_id) == "leased" and ran == []
        finish.set()
        wait_until(lambda: a.job_status(job_id) == "done")
        assert ran == [("a", job_id)]
    finally:
        finish.set()
        assert ra.drain(5) and rb.drain(5)
    assert all(r["stopped"] is not None for r in a.replicas())  # both said they are gone


def test_a_runner_taken_over_while_it_looked_dead_does_not_post_or_close_the_job(
        replicas: tuple[State, State]) -> None:
    a, b = replicas
    started, go = threading.Event(), threading.Event()
    posted: list[bool] = []

    def answer(job: Job) -> str | None:
        started.set()
        go.wait(60)
        mine = ra.mark_posting(job.id)  # what the Slack handler asks just before it posts
        posted.append(mine)
        return "1.0" if mine else None

    # registered, then silent for far longer than it counts as alive: a stalled replica, as the others see it
    ra = JobRunner(a, {"event": answer}, workers=1, lease_s=600, poll_s=0.02, heartbeat_s=60, dead_after_s=0.1)
    ra.start()
    try:
        job_id = a.enqueue("event", {})
        assert started.wait(30)
        taken = wait_until(lambda: b.lease("w-b", 600))
        assert isinstance(taken, Job) and taken.id == job_id and taken.recovered
        go.set()
        wait_until(lambda: posted and ra.pending == 0)
        assert posted == [False]  # it did not post a second answer
        assert a.job_status(job_id) == "leased" and b.holds(job_id, "w-b")  # nor closed the other's job
        b.done(job_id, "2.0")
        assert a.job_status(job_id) == "done"
    finally:
        go.set()
        ra.drain(5)


def test_healthz_says_when_the_database_cannot_be_reached(tmp_path: Path) -> None:
    from bot.server import Health
    from tests.fakes.chroma_server import free_port

    settings = Settings.from_env({"CAREERBOT_DATA_DIR": str(tmp_path)}, dotenv=False)
    with State.open(default_url(tmp_path)) as up:
        health = Health(settings, None, "http", pending=up.pending, db_every_s=0.05)
        try:
            _, body = health.snapshot()
            assert body["database"] == {"ok": True} and body["queue"] == {"pending": 0}
        finally:
            health.close()
    down = State.open(f"postgresql://careerbot:s3cret-pass@127.0.0.1:{free_port()}/careerbot", migrate=False)
    health = Health(settings, None, "http", pending=down.pending, db_every_s=0.05)
    try:
        code, body = health.snapshot()
        assert code == 503 and body["status"] == "degraded" and body["queue"] == {"pending": None}
        assert body["database"]["ok"] is False and "unreachable" in body["database"]["detail"]
        assert "s3cret" not in str(body)
    finally:
        health.close()
        down.close()


def test_settings_replica_heartbeat() -> None:
    s = Settings.from_env({}, dotenv=False)
    assert (s.replica_heartbeat_s, s.replica_dead_after_s) == (1.0, 3.0)
    s = Settings.from_env({"CAREERBOT_REPLICA_HEARTBEAT_S": "0.5"}, dotenv=False)
    assert (s.replica_heartbeat_s, s.replica_dead_after_s) == (0.5, 1.5)
    s = Settings.from_env({"CAREERBOT_REPLICA_HEARTBEAT_S": "2", "CAREERBOT_REPLICA_DEAD_AFTER_S": "1"},
                          dotenv=False)
    assert s.replica_dead_after_s == 4.0  # never under two beats
