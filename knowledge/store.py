"""The Chroma store: embedded PersistentClient or a Chroma server, cosine space.

Only this module talks to chromadb. The client is injectable so tests hand in an
``EphemeralClient`` or an ``HttpClient`` to a server they started.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from .config import KnowledgeConfig
from .embeddings import CareerbotEmbeddingFunction, Embedder
from .errors import EmbedderMismatch, StoreUnavailable

log = logging.getLogger(__name__)
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


@dataclass(frozen=True)
class StoredChunk:
    id: str
    text: str
    metadata: dict[str, Any]


def connect(config: KnowledgeConfig) -> Any:
    """Open the configured Chroma client, turning connection failures into one clear error."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if config.chroma_host:
        where = f"{config.chroma_host}:{config.chroma_port}"
        try:
            client = chromadb.HttpClient(host=config.chroma_host, port=config.chroma_port, settings=chroma_settings)
            client.heartbeat()
        except Exception as exc:
            reason = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
            raise StoreUnavailable(f"cannot reach the Chroma server at {where}: {reason}") from None
        return client
    try:
        config.chroma_path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(config.chroma_path), settings=chroma_settings)
    except Exception as exc:
        raise StoreUnavailable(f"cannot open the local store in {config.chroma_path}: {exc}") from None


class Store:
    """One collection of chunks, tied to the embedder that built it."""

    def __init__(self, client: Any, embedder: Embedder, collection: str = "careerbot") -> None:
        self._client = client
        self.embedder = embedder
        self.name = collection
        self._col: Any = None

    # -- collection lifecycle --------------------------------------------------
    def _wrap(self, exc: Exception) -> StoreUnavailable:
        reason = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
        return StoreUnavailable(f"the Chroma store failed: {reason}")

    def collection(self, create: bool = False) -> Any:
        if self._col is not None:
            return self._col
        try:
            names = {c if isinstance(c, str) else c.name for c in self._client.list_collections()}
        except Exception as exc:
            raise self._wrap(exc) from None
        if self.name in names:
            try:
                col = self._client.get_collection(self.name)
            except Exception as exc:
                text = str(exc)
                if "embedding function" in text.lower() or "careerbot" in text.lower():
                    raise EmbedderMismatch(
                        f"collection {self.name!r} was built with another embedding function; "
                        "run `careerbot ingest --rebuild` to re-ingest"
                    ) from None
                raise self._wrap(exc) from None
            built_with = (col.metadata or {}).get("embedder")
            if built_with and built_with != self.embedder.id:
                raise EmbedderMismatch(
                    f"the knowledge base was built with embedder {built_with!r} but {self.embedder.id!r} is "
                    "configured (CAREERBOT_EMBEDDINGS); re-ingest with `careerbot ingest --rebuild`"
                )
            self._col = col
            return col
        if not create:
            return None
        self._col = self._create(self.name)
        return self._col

    def _create(self, name: str) -> Any:
        try:
            return self._client.create_collection(
                name,
                embedding_function=CareerbotEmbeddingFunction(self.embedder.id, self.embedder),
                configuration={"hnsw": {"space": "cosine"}},
                metadata={"embedder": self.embedder.id, "version": 0},
            )
        except Exception as exc:
            raise self._wrap(exc) from None

    def drop(self) -> None:
        """Delete the collection (used by --rebuild, e.g. after switching embedders)."""
        try:
            names = {c if isinstance(c, str) else c.name for c in self._client.list_collections()}
            if self.name in names:
                self._client.delete_collection(self.name)
        except Exception as exc:
            raise self._wrap(exc) from None
        self._col = None

    # -- reads -----------------------------------------------------------------
    def count(self) -> int:
        col = self.collection()
        if col is None:
            return 0
        try:
            return int(col.count())
        except Exception as exc:
            raise self._wrap(exc) from None

    def version(self) -> str:
        """Changes whenever an ingest changed the collection; readers use it to refresh caches."""
        col = self.collection()
        if col is None:
            return "empty"
        try:
            fresh = self._client.get_collection(self.name)
        except Exception as exc:
            raise self._wrap(exc) from None
        return f"{(fresh.metadata or {}).get('version', 0)}"

    def all_chunks(self, where: dict[str, Any] | None = None) -> list[StoredChunk]:
        col = self.collection()
        if col is None:
            return []
        out: list[StoredChunk] = []
        try:
            offset = 0
            while True:
                got = col.get(where=where, include=["documents", "metadatas"], limit=5000, offset=offset)
                ids = got["ids"]
                for cid, doc, meta in zip(ids, got["documents"] or [], got["metadatas"] or [], strict=False):
                    out.append(StoredChunk(cid, doc or "", dict(meta or {})))
                if len(ids) < 5000:
                    break
                offset += len(ids)
        except Exception as exc:
            raise self._wrap(exc) from None
        return out

    def ids_by_source(self) -> dict[str, dict[str, str]]:
        """source -> {chunk id -> root folder it was ingested from}."""
        return {
            source: {cid: str(meta.get("root", "")) for cid, meta in chunks.items()}
            for source, chunks in self.metadata_by_source().items()
        }

    def metadata_by_source(self) -> dict[str, dict[str, dict[str, Any]]]:
        """source -> {chunk id -> stored metadata}, read in pages (no documents, no vectors)."""
        out: dict[str, dict[str, dict[str, Any]]] = {}
        col = self.collection()
        if col is None:
            return out
        try:
            offset = 0
            while True:
                got = col.get(include=["metadatas"], limit=5000, offset=offset)
                ids = got["ids"]
                for cid, meta in zip(ids, got["metadatas"] or [], strict=False):
                    meta = dict(meta or {})
                    out.setdefault(str(meta.get("source", "")), {})[cid] = meta
                if len(ids) < 5000:
                    break
                offset += len(ids)
        except Exception as exc:
            raise self._wrap(exc) from None
        return out

    def query(self, vector: np.ndarray, n: int) -> list[tuple[StoredChunk, float]]:
        """Nearest chunks with cosine similarity (1 - cosine distance)."""
        col = self.collection()
        if col is None:
            return []
        try:
            n = max(1, min(n, col.count()))
            got = col.query(
                query_embeddings=[vector.astype(np.float32).tolist()],
                n_results=n,
                include=["documents", "metadatas", "distances"],
            )
        except Exception as exc:
            raise self._wrap(exc) from None
        res: list[tuple[StoredChunk, float]] = []
        for cid, doc, meta, dist in zip(
            got["ids"][0], (got["documents"] or [[]])[0], (got["metadatas"] or [[]])[0], (got["distances"] or [[]])[0],
            strict=False,
        ):
            res.append((StoredChunk(cid, doc or "", dict(meta or {})), 1.0 - float(dist)))
        return res

    # -- writes ----------------------------------------------------------------
    def upsert(self, ids: list[str], texts: list[str], metadatas: list[dict[str, Any]], vectors: np.ndarray) -> None:
        col = self.collection(create=True)
        try:
            for start in range(0, len(ids), 1000):
                sl = slice(start, start + 1000)
                col.upsert(
                    ids=ids[sl], documents=texts[sl], metadatas=metadatas[sl], embeddings=vectors[sl].tolist()
                )
        except Exception as exc:
            raise self._wrap(exc) from None

    def update_metadata(self, ids: list[str], metadatas: list[dict[str, Any]]) -> None:
        """New metadata (title, position...) for chunks whose text and vector are unchanged."""
        if not ids:
            return
        col = self.collection(create=True)
        try:
            for start in range(0, len(ids), 1000):
                col.update(ids=ids[start:start + 1000], metadatas=metadatas[start:start + 1000])
        except Exception as exc:
            raise self._wrap(exc) from None

    def delete(self, ids: list[str]) -> None:
        if not ids:
            return
        col = self.collection()
        if col is None:
            return
        try:
            for start in range(0, len(ids), 1000):
                col.delete(ids=ids[start:start + 1000])
        except Exception as exc:
            raise self._wrap(exc) from None

    def bump_version(self) -> None:
        col = self.collection(create=True)
        meta = dict(col.metadata or {})
        meta.pop("hnsw:space", None)
        meta["version"] = int(time.time() * 1000)
        try:
            col.modify(metadata=meta)
        except Exception as exc:
            raise self._wrap(exc) from None
