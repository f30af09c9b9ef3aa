"""The knowledge layer's own small config object, built by the caller from settings."""

from __future__ import annotations

from dataclasses import dataclass
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

    ``chroma_host`` set means a Chroma server (HttpClient); unset means an embedded
    PersistentClient under ``data_dir``.
    """

    data_dir: Path = Path(".careerbot")
    chroma_host: str | None = None
    chroma_port: int = 8000
    embeddings: str = "local"  # "local" (= "use") | "e5" | "e5+use" | "openai"
    openai_api_key: str | None = None
    openai_base_url: str | None = None
    openai_embedding_model: str = "text-embedding-3-small"
    collection: str = DEFAULT_COLLECTION

    @property
    def chroma_path(self) -> Path:
        return self.data_dir / "chroma"
