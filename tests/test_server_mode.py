"""Server mode for real: a `chroma run` server on loopback, shared by several bots.

One Chroma server per module (tests/fakes/chroma_server.py starts the real binary from
the chromadb package). The seeds are ingested into it once, from a private copy so one
test can edit a file and re-ingest while others search.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bot.pipeline import build_pipeline
from bot.settings import Settings
from knowledge.base import KnowledgeBase
from knowledge.config import KnowledgeConfig
from knowledge.embeddings import make_embedder
from knowledge.errors import StoreUnavailable
from tests.fakes.chroma_server import ChromaServer, free_port
from tests.fakes.postgres_server import PostgresServer
from tests.fakes.slack_server import TEST_SIGNING_SECRET, Call, FakeSlack, deliver, event_body
from tests.test_deploy import parse_dockerfile

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
JOBS_DOC = "003_0c1c93809ca1b7a8.txt"  # "The Impact of LLMs on the Job Market"
JOBS_QUESTION = "Which jobs are most exposed to disruption by LLMs?"
QUESTIONS = [
    JOBS_QUESTION,
    "What skills does a machine learning engineer need?",
    "推荐算法工程师如何转型大模型推理？",
]


@dataclass
class Served:
    server: ChromaServer
    seeds: Path  # the private copy that was ingested
    config: KnowledgeConfig
    kb: KnowledgeBase
    tmp: Path
    env: dict[str, str] = field(default_factory=dict)  # CHROMA_HOST/PORT for bot processes


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp("server_mode")
    seeds = tmp / "seeds"
    shutil.copytree(SEEDS, seeds)
    with ChromaServer(tmp / "chroma") as server:
        config = KnowledgeConfig(data_dir=tmp / "ingester", chroma_host=server.host, chroma_port=server.port)
        kb = KnowledgeBase(config)
        report = kb.ingest([seeds])
        assert report.count("added") == 5 and not report.skipped, report.summary()
        yield Served(server, seeds, config, kb, tmp, {"CHROMA_HOST": server.host, "CHROMA_PORT": str(server.port)})


def test_server_store_is_a_real_chroma_server_holding_the_seeds(served: Served) -> None:
    """The ingest went over HTTP into the server's own folder, not into a local embedded store."""
    assert served.server.heartbeat()
    assert not (served.config.data_dir / "chroma").exists(), "an embedded store was created instead"
    assert (served.server.path / "chroma.sqlite3").exists()
    assert set(served.kb.sources()) == {p.name for p in SEEDS.iterdir()}


def test_server_mode_retrieves_what_the_embedded_store_retrieves(served: Served, kb: KnowledgeBase) -> None:
    """Moving the store to a server changes nothing a user sees: same passages, same order."""
    reader = KnowledgeBase(KnowledgeConfig(data_dir=served.tmp / "reader", chroma_host=served.server.host,
                                           chroma_port=served.server.port), embedder=kb.embedder)
    for question in QUESTIONS:
        remote, local = reader.search(question), kb.search(question)
        assert [p.id for p in remote.passages] == [p.id for p in local.passages], question
        assert remote.coverage == pytest.approx(local.coverage, abs=1e-3)
    assert reader.search(JOBS_QUESTION).passages[0].source == JOBS_DOC


def test_pipeline_answers_from_the_server_as_from_the_embedded_store(served: Served, kb: KnowledgeBase) -> None:
    """build_pipeline with CHROMA_HOST set: the bot's answers are the embedded store's answers."""
    env = {"CAREERBOT_DATA_DIR": str(served.tmp / "pipeline"), **served.env}
    remote = build_pipeline(Settings.from_env(env, dotenv=False))
    assert remote.kb.config.chroma_host == served.server.host
    local = build_pipeline(Settings.from_env({"CAREERBOT_DATA_DIR": str(served.tmp / "pipeline-local")},
                                             dotenv=False), kb=kb)
    for question in (JOBS_QUESTION, QUESTIONS[2]):
        a, b = remote.answer(question), local.answer(question)
        assert not a.refused and a.citations, question
        assert (a.text, a.citations) == (b.text, b.citations), question
        if question == JOBS_QUESTION:
            assert JOBS_DOC in {c.source for c in a.citations}


# -- two bot replicas (real `careerbot serve --http` processes) sharing the server ----------------------------
def healthcheck_argv(port: int) -> list[str]:
    """The image's HEALTHCHECK command, pointed at ``port`` (it probes 3000 inside the container)."""
    (check,) = [i for i in parse_dockerfile((ROOT / "deploy" / "Dockerfile").read_text()) if i.op == "HEALTHCHECK"]
    argv = check.check_command
    assert argv[0] == "python" and ":3000/healthz" in argv[-1]
    return [sys.executable, *argv[1:-1], argv[-1].replace(":3000/", f":{port}/")]


@dataclass
class Replica:
    port: int
    proc: subprocess.Popen[bytes]
    log: Path

    @property
    def events_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/slack/events"

    def healthy(self) -> bool:
        """Exactly what Docker runs: exit status 0 means healthy."""
        return subprocess.run(healthcheck_argv(self.port), capture_output=True, timeout=15).returncode == 0

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture(scope="module")
def replicas(served: Served, slack: FakeSlack, postgres: PostgresServer) -> Iterator[list[Replica]]:
    """Two `careerbot serve --http` processes, each with its own data dir, sharing the Chroma server and one
    PostgreSQL database (DATABASE_URL)."""
    database_url = postgres.create_database("server_mode")
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("SLACK_", "OPENAI_", "CHROMA_", "CAREERBOT_"))}
    started: list[Replica] = []
    for n in range(2):
        port = free_port()
        env = {**base, **served.env, "SLACK_BOT_TOKEN": "xoxb-test-0000", "SLACK_SIGNING_SECRET": TEST_SIGNING_SECRET,
               "SLACK_API_URL": slack.api_url, "CAREERBOT_DATA_DIR": str(served.tmp / f"replica{n}"),
               "CAREERBOT_SEEDS_DIR": str(served.seeds), "CAREERBOT_RATE_LIMIT_PER_MINUTE": "1000",
               "CAREERBOT_LOG_LEVEL": "INFO", "DATABASE_URL": database_url}
        log = served.tmp / f"replica{n}.log"
        with open(log, "wb") as out:
            argv = [str(Path(sys.executable).parent / "careerbot"), "serve", "--http", "--host", "127.0.0.1",
                    "--port", str(port)]
            proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, env=env, cwd=served.tmp)
        started.append(Replica(port, proc, log))
    try:
        deadline = time.monotonic() + 90
        for r in started:
            while not r.healthy():
                assert r.proc.poll() is None, f"replica exited {r.proc.returncode}: {r.output()[-2000:]}"
                assert time.monotonic() < deadline, f"replica never became healthy: {r.output()[-2000:]}"
                time.sleep(0.5)
        yield started
    finally:
        for r in started:
            if r.proc.poll() is None:
                r.proc.kill()
                r.proc.wait(timeout=10)


def wait_posts(slack: FakeSlack, channel: str, count: int = 1, timeout: float = 30.0) -> list[Call]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [c for c in slack.calls("chat.postMessage", ok_only=True) if c.params.get("channel") == channel]
        if len(found) >= count:
            return found
        time.sleep(0.05)
    raise AssertionError(f"no answer posted in {channel}")


def dm(channel: str, text: str, ts: str) -> dict[str, Any]:
    return {"type": "message", "channel_type": "im", "user": "U0ASKER1", "text": text, "ts": ts, "channel": channel}


def test_two_replicas_report_the_shared_server_store_on_healthz(replicas: list[Replica], served: Served) -> None:
    chunks = served.kb.store.count()
    for r in replicas:
        with urllib.request.urlopen(f"http://127.0.0.1:{r.port}/healthz", timeout=5) as resp:
            body = json.loads(resp.read())
        assert body["status"] == "ok"
        assert body["store"] == {"ok": True, "chunks": chunks, "kind": "server"}
        assert body["embedder"] == served.kb.embedder.id
    # No replica built an embedded store of its own.
    assert not any((served.tmp / f"replica{n}" / "chroma").exists() for n in range(2))
    # And the image's HEALTHCHECK does fail when nothing healthy answers.
    nobody = Replica(free_port(), replicas[0].proc, replicas[0].log)
    assert not nobody.healthy()


def test_two_replicas_answer_the_same_question_the_same_way(replicas: list[Replica], slack: FakeSlack) -> None:
    with ThreadPoolExecutor(2) as pool:
        sent = list(pool.map(
            lambda nr: deliver(nr[1].events_url, event_body(dm(f"D0REPLICA{nr[0]}", JOBS_QUESTION, "1700.0001"),
                                                            f"EvSame{nr[0]}")),
            enumerate(replicas)))
    assert [d.status for d in sent] == [200, 200]
    first, second = (wait_posts(slack, f"D0REPLICA{n}")[0] for n in range(2))
    assert first.params["text"] == second.params["text"]
    assert JOBS_DOC in first.params["text"] and "[1]" in first.params["text"]

    def sources(call: Call) -> list[Any]:
        return [b for b in call.params.get("blocks") or [] if b.get("type") != "actions"]

    assert sources(first) == sources(second)


def test_a_retry_to_the_other_replica_is_not_answered_again(replicas: list[Replica], slack: FakeSlack) -> None:
    """The event id is claimed in the shared database: a retry reaching either replica is a duplicate."""
    one, other = replicas
    body = event_body(dm("D0RETRY", "What skills does a machine learning engineer need?", "1700.0002"), "EvRetry1")
    assert deliver(one.events_url, body).status == 200
    wait_posts(slack, "D0RETRY", 1)
    assert deliver(one.events_url, body, retry_num=1).status == 200  # same replica
    assert deliver(other.events_url, body, retry_num=2).status == 200  # the other replica
    deadline = time.monotonic() + 30
    while not all('"duplicate"' in r.output() for r in replicas):  # both retries were seen and dropped
        assert time.monotonic() < deadline, [r.output()[-1500:] for r in replicas]
        time.sleep(0.1)
    assert len([c for c in slack.calls("chat.postMessage", ok_only=True) if c.params.get("channel") == "D0RETRY"]) \
        == 1


def test_replicas_exit_0_on_sigterm(replicas: list[Replica]) -> None:
    for r in replicas:
        r.proc.send_signal(signal.SIGTERM)
    for r in replicas:
        assert r.proc.wait(timeout=40) == 0, r.output()[-2000:]
        assert TEST_SIGNING_SECRET not in r.output() and "xoxb-test-0000" not in r.output()


def test_a_running_bot_recovers_after_ingest_rebuild_on_the_server(served: Served) -> None:
    """`careerbot ingest --rebuild` drops and recreates the collection under running bots.

    The rebuild is built aside and swapped in (see test_knowledge_store); afterwards a bot
    that was already running must use the new collection, not its handle to the dropped one.
    """
    folder = served.tmp / "rebuild-src"
    folder.mkdir()
    shutil.copy(SEEDS / JOBS_DOC, folder)
    config = KnowledgeConfig(data_dir=served.tmp / "rebuild", chroma_host=served.server.host,
                             chroma_port=served.server.port, collection="careerbot_rebuild")
    writer = KnowledgeBase(config, embedder=served.kb.embedder)
    writer.ingest([folder])
    bot = KnowledgeBase(config, embedder=served.kb.embedder)
    assert bot.search(JOBS_QUESTION).passages[0].source == JOBS_DOC
    writer.ingest([folder], rebuild=True)
    outcomes: list[str] = []
    for _ in range(2):
        try:
            outcomes.append(bot.search(JOBS_QUESTION).passages[0].source)
        except StoreUnavailable as exc:
            outcomes.append(f"error: {exc}")
    assert outcomes == [JOBS_DOC, JOBS_DOC], outcomes


@dataclass
class SearchLog:
    started: float
    ended: float
    fresh_process: bool
    question: str
    sources: list[str]
    error: str = ""


def _revise(text: str) -> str:
    """Change every paragraph of a document so every one of its chunks gets a new id."""
    out = []
    for line in text.splitlines():
        body = line.strip()
        out.append(f"{line} Revised." if body and not body.startswith(("#", "-", "---")) and ":" not in body[:12]
                   else line)
    return "\n".join(out) + "\n"


def test_reingest_while_bots_search_never_leaves_a_gap(served: Served) -> None:
    """`careerbot ingest` against the live server: searches keep finding the document being replaced.

    A reader thread plays two bot replicas: one long-lived (its index snapshot predates the
    ingest) and one that starts fresh for each search, as a replica starting mid-ingest would.
    """
    reader_embedder = make_embedder(served.config)  # its own model handle, as another process would have
    # A replica that was serving before the ingest: its BM25 snapshot stays the old one for up to
    # refresh_seconds (30 s) after the ingest, while Chroma already holds the new chunks.
    live = KnowledgeBase(served.config, embedder=reader_embedder)
    live.search(JOBS_QUESTION)
    log: list[SearchLog] = []
    stop = threading.Event()

    def reader() -> None:
        n = 0
        while not stop.is_set():
            question = QUESTIONS[n % 2]
            fresh = n % 3 == 2
            kb = KnowledgeBase(served.config, embedder=reader_embedder) if fresh else live
            t0 = time.monotonic()
            try:
                sources = [p.source for p in kb.search(question).passages]
                log.append(SearchLog(t0, time.monotonic(), fresh, question, sources))
            except Exception as exc:  # a bot would have answered with an error
                log.append(SearchLog(t0, time.monotonic(), fresh, question, [], f"{type(exc).__name__}: {exc}"))
            n += 1
            time.sleep(0.02)  # leave the writer some CPU, as real traffic would

    doc = served.seeds / JOBS_DOC
    original = doc.read_text()
    writer = KnowledgeBase(served.config)  # the `careerbot ingest` process
    windows: list[tuple[float, float]] = []
    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    try:
        time.sleep(0.5)
        doc.write_text(_revise(original))
        t0 = time.monotonic()
        revised = writer.ingest([served.seeds])
        windows.append((t0, time.monotonic()))
        doc.write_text(original)
        t0 = time.monotonic()
        restored = writer.ingest([served.seeds])
        windows.append((t0, time.monotonic()))
        time.sleep(0.3)
    finally:
        doc.write_text(original)
        stop.set()
        thread.join(timeout=30)
    assert not thread.is_alive()

    during = [s for s in log if any(a <= s.started <= b or a <= s.ended <= b for a, b in windows)]
    assert len(during) >= 4 and any(s.fresh_process for s in during), f"only {len(during)} searches overlapped"
    errors = [s.error for s in log if s.error]
    assert not errors, errors[:3]
    assert all(s.sources for s in log), "a search returned no passages while ingesting"
    gaps = [s for s in log if s.question == JOBS_QUESTION and JOBS_DOC not in s.sources]
    assert not gaps, f"{len(gaps)} searches lost {JOBS_DOC} mid-ingest"
    # The ingest really replaced every chunk of the file, twice, and left nothing over.
    by_source = {f.source: f for f in revised.files}
    assert by_source[JOBS_DOC].status == "updated" and revised.count("unchanged") == 4
    assert revised.chunks_removed == by_source[JOBS_DOC].chunks, "every old chunk of the file was replaced"
    assert restored.chunks_added == revised.chunks_removed and restored.count("updated") == 1
    after = KnowledgeBase(served.config, embedder=reader_embedder)
    assert after.search(JOBS_QUESTION).passages[0].source == JOBS_DOC
    assert len(writer.passages_of(JOBS_DOC)) == by_source[JOBS_DOC].chunks
