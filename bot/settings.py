"""One typed settings object, built once from the environment (and .env) and passed down."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from knowledge.config import KnowledgeConfig, bundled_seeds_dir
from knowledge.errors import ConfigError

DEFAULT_CHAT_MODEL = "gpt-4o-mini"
DEFAULT_SLACK_API_URL = "https://slack.com/api/"
SECRET_FIELDS = ("slack_bot_token", "slack_signing_secret", "slack_app_token", "openai_api_key", "chroma_api_key")


def _default_seeds_dir() -> Path:
    """seeds/ in the working directory, else the seed documents bundled with the package."""
    here = Path.cwd() / "seeds"
    if here.is_dir():
        return here
    return bundled_seeds_dir()


def _is_true(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes")


@dataclass(frozen=True)
class Settings:
    slack_bot_token: str | None = field(default=None, repr=False)
    slack_signing_secret: str | None = field(default=None, repr=False)
    slack_app_token: str | None = field(default=None, repr=False)
    slack_api_url: str = DEFAULT_SLACK_API_URL
    openai_api_key: str | None = field(default=None, repr=False)
    openai_base_url: str | None = None
    chat_model: str = DEFAULT_CHAT_MODEL
    embeddings: str = "local"
    chroma_host: str | None = None
    chroma_port: int = 8000
    chroma_ssl: bool = False
    chroma_api_key: str | None = field(default=None, repr=False)
    chroma_tenant: str | None = None
    chroma_database: str | None = None
    database_url: str | None = field(default=None, repr=False)  # None: SQLite in data_dir
    admins: tuple[str, ...] = ()
    data_dir: Path = Path(".careerbot")
    seeds_dir: Path = field(default_factory=_default_seeds_dir)
    log_level: str = "INFO"
    debug: bool = False
    rate_limit_per_minute: int = 10
    llm_timeout_s: float = 20.0
    llm_total_timeout_s: float = 45.0
    allow_private_urls: bool = False
    scope: str | None = None  # what the knowledge base covers, for refusals; unset: derived from the documents
    job_lease_s: float = 30.0  # backstop: a job is leasable again after this long without a lease extension
    replica_heartbeat_s: float = 1.0  # each replica's job runner says it is alive this often
    replica_dead_after_s: float = 3.0  # a replica silent this long is dead: its jobs are taken over at once
    drain_timeout_s: float = 20.0  # SIGTERM: how long to finish running answers before handing them back
    http_timeout_s: float = 10.0  # the front door's limit for a request head, and for its body

    @staticmethod
    def console_from_env(env: Mapping[str, str] | None = None) -> tuple[str | None, bool]:
        """CAREERBOT_LOG_LEVEL (None when unset) and CAREERBOT_DEBUG, for the command line before a command runs.

        Read from the process environment only (no .env, no validation): the command's own Settings may fail.
        """
        env = os.environ if env is None else env
        level = (env.get("CAREERBOT_LOG_LEVEL") or "").strip().upper() or None
        return level, _is_true(env.get("CAREERBOT_DEBUG"))

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, *, dotenv: bool = True) -> Settings:
        """Read settings from ``env`` (default: os.environ, after loading .env when present)."""
        if env is None:
            if dotenv:
                from dotenv import load_dotenv

                load_dotenv(Path.cwd() / ".env", override=False)
            env = os.environ

        def get(name: str) -> str | None:
            value = env.get(name)
            return value.strip() if value and value.strip() else None

        def get_int(name: str, default: int) -> int:
            raw = get(name)
            if raw is None:
                return default
            try:
                return int(raw)
            except ValueError:
                raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None

        def get_float(name: str, default: float) -> float:
            raw = get(name)
            if raw is None:
                return default
            try:
                return float(raw)
            except ValueError:
                raise ConfigError(f"{name} must be a number, not {raw!r}") from None

        heartbeat = min(60.0, max(0.05, get_float("CAREERBOT_REPLICA_HEARTBEAT_S", 1.0)))
        embeddings = (get("CAREERBOT_EMBEDDINGS") or "local").lower()
        if embeddings not in ("local", "openai", "use", "e5", "e5+use"):
            raise ConfigError(f"CAREERBOT_EMBEDDINGS must be 'local' or 'openai', not {embeddings!r}")
        api_url = get("SLACK_API_URL") or DEFAULT_SLACK_API_URL
        if not api_url.endswith("/"):
            api_url += "/"
        seeds = get("CAREERBOT_SEEDS_DIR")
        database_url = get("DATABASE_URL")
        if database_url and not database_url.startswith(("sqlite:", "postgres:", "postgresql:", "postgresql+")):
            raise ConfigError("DATABASE_URL must be a sqlite:/// or postgresql:// URL")
        return cls(
            slack_bot_token=get("SLACK_BOT_TOKEN"),
            slack_signing_secret=get("SLACK_SIGNING_SECRET"),
            slack_app_token=get("SLACK_APP_TOKEN"),
            slack_api_url=api_url,
            openai_api_key=get("OPENAI_API_KEY"),
            openai_base_url=get("OPENAI_BASE_URL"),
            chat_model=get("CAREERBOT_CHAT_MODEL") or DEFAULT_CHAT_MODEL,
            embeddings=embeddings,
            chroma_host=get("CHROMA_HOST"),
            chroma_port=get_int("CHROMA_PORT", 8000),
            chroma_ssl=(get("CHROMA_SSL") or "0").lower() in ("1", "true", "yes"),
            chroma_api_key=get("CHROMA_API_KEY"),
            chroma_tenant=get("CHROMA_TENANT"),
            chroma_database=get("CHROMA_DATABASE"),
            database_url=database_url,
            admins=tuple(a for a in re.split(r"[\s,]+", get("CAREERBOT_ADMINS") or "") if a),
            data_dir=Path(get("CAREERBOT_DATA_DIR") or ".careerbot"),
            seeds_dir=Path(seeds) if seeds else _default_seeds_dir(),
            log_level=(get("CAREERBOT_LOG_LEVEL") or "INFO").upper(),
            debug=_is_true(get("CAREERBOT_DEBUG")),
            rate_limit_per_minute=get_int("CAREERBOT_RATE_LIMIT_PER_MINUTE", 10),
            llm_timeout_s=get_float("CAREERBOT_LLM_TIMEOUT", 20.0),
            llm_total_timeout_s=get_float("CAREERBOT_LLM_TOTAL_TIMEOUT", 45.0),
            allow_private_urls=(get("CAREERBOT_ALLOW_PRIVATE_URLS") or "0").lower() in ("1", "true", "yes"),
            scope=get("CAREERBOT_SCOPE"),
            job_lease_s=max(1.0, get_float("CAREERBOT_JOB_LEASE_S", 30.0)),
            replica_heartbeat_s=heartbeat,
            replica_dead_after_s=max(2 * heartbeat, get_float("CAREERBOT_REPLICA_DEAD_AFTER_S", 3 * heartbeat)),
            drain_timeout_s=max(0.0, get_float("CAREERBOT_DRAIN_TIMEOUT_S", 20.0)),
            http_timeout_s=max(0.5, get_float("CAREERBOT_HTTP_TIMEOUT", 10.0)),
        )

    @property
    def llm_enabled(self) -> bool:
        return bool(self.openai_api_key)

    def knowledge(self) -> KnowledgeConfig:
        return KnowledgeConfig(
            data_dir=self.data_dir,
            chroma_host=self.chroma_host,
            chroma_port=self.chroma_port,
            chroma_ssl=self.chroma_ssl,
            chroma_api_key=self.chroma_api_key,
            chroma_tenant=self.chroma_tenant,
            chroma_database=self.chroma_database,
            embeddings=self.embeddings,
            openai_api_key=self.openai_api_key,
            openai_base_url=self.openai_base_url,
            allow_private_urls=self.allow_private_urls,
        )

    @property
    def seeds_origin(self) -> str:
        """Where seeds_dir came from, for the one line `careerbot ask` prints when it indexes it."""
        if self.seeds_dir.resolve() == bundled_seeds_dir().resolve():
            return f"the bundled seed documents ({self.seeds_dir})"
        return str(self.seeds_dir)

    def state_url(self) -> str:
        """DATABASE_URL, or the SQLite file in CAREERBOT_DATA_DIR."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{Path(self.data_dir).resolve() / 'careerbot.sqlite3'}"

    def secret_values(self) -> list[str]:
        """The configured secret values, for scrubbing answers and logs (the database password included)."""
        values = [v for v in (getattr(self, f) for f in SECRET_FIELDS) if v and len(v) >= 6]
        if self.database_url:
            try:
                from urllib.parse import unquote, urlsplit

                password = urlsplit(self.database_url).password
            except ValueError:
                password = None
            if password and len(unquote(password)) >= 6:
                values += [password, unquote(password)]
        return values
