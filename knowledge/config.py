"""The knowledge layer's own small config object, built by the caller from settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_COLLECTION = "careerbot"


def bundled_seeds_dir() -> Path:
    """The seed documents that ship with careerbot.

    An installed wheel carries them as the package data ``knowledge/seeds/``; a source checkout
    (or an editable install) has them in the top-level ``seeds/`` beside this package.
    """
    here = Path(__file__).resolve().parent
    installed = here / "seeds"
    return installed if installed.is_dir() else here.parent / "seeds"


@dataclass(frozen=True)
class KnowledgeConfig:
    """Where the store lives and which embedder builds it.

    ``chroma_host`` set means a Chroma server (HttpClient; ``chroma_ssl`` for https, ``chroma_api_key`` sent
    as the X-Chroma-Token header, ``chroma_tenant``/``chroma_database`` where not the defaults); no host but an
    API key means Chroma Cloud (CloudClient); neither means an embedded PersistentClient under ``data_dir``.
    """

    data_dir: Path = Path(".careerbot")
    chroma_host: str | None = None
    chroma_port: int = 8000
    chroma_ssl: bool = False
    chroma_api_key: str | None = field(default=None, repr=False)
    chroma_tenant: str | None = None
    chroma_database: str | None = None
    embeddings: str = "local"  # "local" (= "use") | "e5" | "e5+use" | "openai"
    openai_api_key: str | None = None
    openai_base_url: str | None = None
    openai_embedding_model: str = "text-embedding-3-small"
    collection: str = DEFAULT_COLLECTION
    # Fetching web pages (`careerbot ingest URL`): see knowledge/web.py.
    allow_private_urls: bool = False  # loopback / private / link-local hosts refused unless set
    fetch_timeout_s: float = 20.0
    fetch_max_bytes: int = 10 * 1024 * 1024
    fetch_max_redirects: int = 5

    @property
    def chroma_path(self) -> Path:
        return self.data_dir / "chroma"
