"""The Chroma store: embedded PersistentClient or a Chroma server, cosine space.

Only this module talks to chromadb. The client is injectable so tests hand in an
``EphemeralClient`` or an ``HttpClient`` to a server they started.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from .config import KnowledgeConfig
from .embeddings import CareerbotEmbeddingFunction, Embedder
from .errors import CollectionGone, EmbedderMismatch, StoreUnavailable

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class StoredChunk:
    id: str
    text: str
    metadata: dict[str, Any]


def connect(config: KnowledgeConfig) -> Any:
    """Open the configured Chroma client, turning connection failures into one clear error.

    A host: a Chroma server over HTTP(S) (``chroma_ssl``), with the API key as the X-Chroma-Token header and
    the tenant and database when given. No host but an API key: Chroma Cloud. Neither: the embedded store.
    """
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if config.chroma_host or config.chroma_api_key:
        if config.chroma_host:
            where = f"{'https' if config.chroma_ssl else 'http'}://{config.chroma_host}:{config.chroma_port}"
        else:
            where = "Chroma Cloud"
        try:
            if config.chroma_host:
                headers = {"x-chroma-token": config.chroma_api_key} if config.chroma_api_key else None
                client = chromadb.HttpClient(
                    host=config.chroma_host, port=config.chroma_port, ssl=config.chroma_ssl, headers=headers,
                    settings=chroma_settings, tenant=config.chroma_tenant or chromadb.DEFAULT_TENANT,
                    database=config.chroma_database or chromadb.DEFAULT_DATABASE,
                )
            else:
                client = chromadb.CloudClient(tenant=config.chroma_tenant, database=config.chroma_database,
                                              api_key=config.chroma_api_key, settings=chroma_settings)
            client.heartbeat()
        except Exception as exc:
            reason = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
            if config.chroma_api_key:
                reason = reason.replace(config.chroma_api_key, "***")
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
        try:
            self._col = self._create(self.name)
        except StoreUnavailable:
            # Another process (a second `careerbot ingest`, a replica) created it first.
            if self.name not in {c if isinstance(c, str) else c.name for c in self._safe_list()}:
                raise
            return self.collection()
        return self._col

    def _safe_list(self) -> list[Any]:
        try:
            return list(self._client.list_collections())
        except Exception as exc:
            raise self._wrap(exc) from None

    def _with_collection(self, op: Callable[[Any], T], missing: T, *, create: bool = False) -> T:
        """Run op on the collection, re-opening it once if it was dropped and re-created elsewhere.

        A long-running bot keeps its collection handle; `careerbot ingest --rebuild` in
        another process replaces the collection, and the old handle then fails with
        "does not exist" on every call.
        """
        for attempt in (0, 1):
            col = self.collection(create=create)
            if col is None and attempt == 1:
                # Gone a moment ago: `ingest --rebuild` may be between its two renames.
                deadline = time.monotonic() + 2.0
                while col is None and time.monotonic() < deadline:
                    time.sleep(0.02)
                    col = self.collection(create=create)
            if col is None:
                return missing
            try:
                return op(col)
            except Exception as exc:
                if attempt == 0 and (_is_gone(exc) or self._replaced(col)):
                    self._col = None
                    continue
                raise self._wrap(exc) from None
        return missing  # pragma: no cover - the loop always returns or raises

    def _replaced(self, col: Any) -> bool:
        """Whether the collection under our name is no longer the one we hold (a rebuild swapped it)."""
        try:
            names = {c if isinstance(c, str) else c.name for c in self._client.list_collections()}
            return self.name not in names or self._client.get_collection(self.name).id != col.id
        except Exception:
            return False

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

    @property
    def client(self) -> Any:
        return self._client

    def replace_with(self, other: Store) -> None:
        """Make ``other``'s freshly built collection this store's, under this store's name.

        Renames instead of re-ingesting in place: the old collection answers until the
        swap, which leaves only the milliseconds between two renames without a collection
        (readers re-open by name, see _with_collection).
        """
        try:
            names = {c if isinstance(c, str) else c.name for c in self._client.list_collections()}
            retired = f"{self.name}__old"
            if retired in names:
                self._client.delete_collection(retired)
            if self.name in names:
                self._client.get_collection(self.name).modify(name=retired)
            self._client.get_collection(other.name).modify(name=self.name)
            if self.name in names:
                self._client.delete_collection(retired)
        except Exception as exc:
            raise self._wrap(exc) from None
        self._col = None
        other._col = None

    def drop(self) -> None:
        """Delete the collection (--rebuild clears a leftover half-built one with this)."""
        try:
            names = {c if isinstance(c, str) else c.name for c in self._client.list_collections()}
            if self.name in names:
                self._client.delete_collection(self.name)
        except Exception as exc:
            raise self._wrap(exc) from None
        self._col = None

    # -- reads -----------------------------------------------------------------
    def count(self) -> int:
        return self._with_collection(lambda col: int(col.count()), 0)

    def version(self) -> str:
        """Changes whenever an ingest changed the collection; readers use it to refresh caches."""

        def read(col: Any) -> str:
            fresh = self._client.get_collection(self.name)
            if fresh.id != col.id:  # dropped and re-created (ingest --rebuild elsewhere)
                raise CollectionGone(self.name)
            return f"{(fresh.metadata or {}).get('version', 0)}"

        return self._with_collection(read, "empty")

    def _paged_get(self, col: Any, include: list[str], where: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
        rows: list[tuple[Any, ...]] = []
        offset = 0
        while True:
            got = col.get(where=where, include=include, limit=5000, offset=offset)
            ids = got["ids"]
            cols = [got[name] or [None] * len(ids) for name in include]
            rows.extend(zip(ids, *cols, strict=False))
            if len(ids) < 5000:
                return rows
            offset += len(ids)

    def all_chunks(self, where: dict[str, Any] | None = None) -> list[StoredChunk]:
        none: list[tuple[Any, ...]] = []
        rows = self._with_collection(lambda col: self._paged_get(col, ["documents", "metadatas"], where), none)
        return [StoredChunk(cid, doc or "", dict(meta or {})) for cid, doc, meta in rows]

    def ids_by_source(self) -> dict[str, dict[str, str]]:
        """source -> {chunk id -> root folder it was ingested from}."""
        return {
            source: {cid: str(meta.get("root", "")) for cid, meta in chunks.items()}
            for source, chunks in self.metadata_by_source().items()
        }

    def metadata_by_source(self) -> dict[str, dict[str, dict[str, Any]]]:
        """source -> {chunk id -> stored metadata}, read in pages (no documents, no vectors)."""
        out: dict[str, dict[str, dict[str, Any]]] = {}
        none: list[tuple[Any, ...]] = []
        for cid, meta in self._with_collection(lambda col: self._paged_get(col, ["metadatas"]), none):
            meta = dict(meta or {})
            out.setdefault(str(meta.get("source", "")), {})[cid] = meta
        return out

    def query(self, vector: np.ndarray, n: int) -> list[tuple[StoredChunk, float]]:
        """Nearest chunks with cosine similarity (1 - cosine distance)."""

        def run(col: Any) -> dict[str, Any]:
            size = col.count()
            if not size:
                return {}
            return dict(col.query(
                query_embeddings=[vector.astype(np.float32).tolist()],
                n_results=max(1, min(n, size)),
                include=["documents", "metadatas", "distances"],
            ))

        nothing: dict[str, Any] = {}
        got = self._with_collection(run, nothing)
        if not got:
            return []
        res: list[tuple[StoredChunk, float]] = []
        for cid, doc, meta, dist in zip(
            got["ids"][0], (got["documents"] or [[]])[0], (got["metadatas"] or [[]])[0], (got["distances"] or [[]])[0],
            strict=False,
        ):
            res.append((StoredChunk(cid, doc or "", dict(meta or {})), 1.0 - float(dist)))
        return res

    def similarities(self, vector: np.ndarray, ids: list[str]) -> dict[str, float]:
        """Chunk id -> cosine similarity of its stored vector to ``vector``, for the ids still stored."""
        if not ids:
            return {}

        def run(col: Any) -> dict[str, Any]:
            return dict(col.get(ids=ids, include=["embeddings"]))

        nothing: dict[str, Any] = {}
        got = self._with_collection(run, nothing)
        embeddings = got.get("embeddings") if got else None
        if embeddings is None or not len(embeddings):
            return {}
        mat = np.asarray(embeddings, dtype=np.float32)
        q = vector.astype(np.float32)
        norms = np.linalg.norm(mat, axis=1) * (float(np.linalg.norm(q)) or 1.0)
        sims = (mat @ q) / np.where(norms > 0, norms, 1.0)
        return {str(cid): float(s) for cid, s in zip(got["ids"], sims, strict=True)}

    # -- writes ----------------------------------------------------------------
    def upsert(self, ids: list[str], texts: list[str], metadatas: list[dict[str, Any]], vectors: np.ndarray) -> None:
        def run(col: Any) -> None:
            for start in range(0, len(ids), 1000):
                sl = slice(start, start + 1000)
                col.upsert(
                    ids=ids[sl], documents=texts[sl], metadatas=metadatas[sl], embeddings=vectors[sl].tolist()
                )

        self._with_collection(run, None, create=True)

    def update_metadata(self, ids: list[str], metadatas: list[dict[str, Any]]) -> None:
        """New metadata (title, position...) for chunks whose text and vector are unchanged."""
        if not ids:
            return

        def run(col: Any) -> None:
            for start in range(0, len(ids), 1000):
                col.update(ids=ids[start:start + 1000], metadatas=metadatas[start:start + 1000])

        self._with_collection(run, None, create=True)

    def delete(self, ids: list[str]) -> None:
        if not ids:
            return

        def run(col: Any) -> None:
            for start in range(0, len(ids), 1000):
                col.delete(ids=ids[start:start + 1000])

        self._with_collection(run, None)

    def bump_version(self) -> None:
        def run(col: Any) -> None:
            meta = dict(col.metadata or {})
            meta.pop("hnsw:space", None)
            meta["version"] = int(time.time() * 1000)
            col.modify(metadata=meta)

        self._with_collection(run, None, create=True)


def _is_gone(exc: Exception) -> bool:
    if isinstance(exc, CollectionGone):
        return True
    name = type(exc).__name__
    text = str(exc).lower()
    return (
        name in ("NotFoundError", "InvalidCollectionException")
        or ("collection" in text and ("does not exist" in text or "not found" in text))
    )
