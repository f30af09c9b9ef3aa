"""The knowledge layer's front door: ingest files, search passages, read documents.

``KnowledgeBase`` is what bot/ uses; it never needs to see Chroma or the embedder.
Ingestion is upsert-then-delete per file, so a bot answering from a shared Chroma
server while someone runs ``careerbot ingest`` never sees an empty collection.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .config import KnowledgeConfig
from .embeddings import Embedder, QueryCache, make_embedder
from .errors import IngestError, SkipFile
from .ingest import Chunk, Document, chunk_document, iter_files, load_document, load_fetched
from .retrieval import Mode, Passage, Retrieval, Retriever
from .roles import RoleCatalog, build_catalog
from .store import Store, StoredChunk, connect
from .web import Fetched, is_url, source_name

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]  # (file name, done, total)
EMBED_BATCH = 512  # chunks embedded and written per step: amortises the model and Chroma, bounds memory
MAX_SITEMAP_PAGES = 5000  # pages taken from one ingest's sitemaps


@dataclass
class FileResult:
    source: str
    status: str  # added | updated | unchanged | removed | skipped
    chunks: int = 0
    reason: str = ""
    stripped: list[str] = field(default_factory=list)


@dataclass
class IngestReport:
    files: list[FileResult] = field(default_factory=list)
    chunks_added: int = 0
    chunks_removed: int = 0

    def count(self, status: str) -> int:
        return sum(1 for f in self.files if f.status == status)

    @property
    def skipped(self) -> list[FileResult]:
        return [f for f in self.files if f.status == "skipped"]

    def summary(self) -> str:
        return (
            f"added {self.count('added')}, updated {self.count('updated')}, unchanged {self.count('unchanged')}, "
            f"removed {self.count('removed')}, skipped {self.count('skipped')} "
            f"({self.chunks_added} chunks written, {self.chunks_removed} deleted)"
        )


class KnowledgeBase:
    """Documents in, passages out. Clients are injectable: pass ``client``/``embedder`` in tests."""

    def __init__(
        self,
        config: KnowledgeConfig,
        *,
        client: Any = None,
        embedder: Embedder | None = None,
        openai_client: Any = None,
        http_client: Any = None,
    ) -> None:
        self.config = config
        self.embedder: Embedder = QueryCache(embedder or make_embedder(config, openai_client))
        self._client = client
        self._store: Store | None = None
        self._retriever: Retriever | None = None
        self._docs: dict[str, Document] = {}
        self._roles: RoleCatalog | None = None
        self._roles_lock = threading.Lock()
        self._http = http_client  # an httpx.Client for fetching pages (default: one per ingest)

    @property
    def store(self) -> Store:
        if self._store is None:
            client = self._client if self._client is not None else connect(self.config)
            self._store = Store(client, self.embedder, self.config.collection)
        return self._store

    @property
    def retriever(self) -> Retriever:
        if self._retriever is None:
            self._retriever = Retriever(self.store, cache_dir=self.config.data_dir / "cache")
        return self._retriever

    # -- ingestion ---------------------------------------------------------------
    def ingest(
        self, targets: Iterable[Path | str], *, rebuild: bool = False, progress: Progress | None = None
    ) -> IngestReport:
        """Index files, folders and web pages (http(s) URLs; a sitemap.xml URL means every page it lists)."""
        targets = list(targets)
        urls = [str(t) for t in targets if isinstance(t, str) and is_url(t)]
        paths = [Path(p) for p in targets if not (isinstance(p, str) and is_url(p))]
        for p in paths:
            if not p.exists():
                raise IngestError(f"no such file or folder: {p}")
        store = self.store
        if rebuild:
            # Build the whole new collection aside and swap it in at the end, so bots serving
            # from the old one (perhaps built by another embedder) keep answering meanwhile.
            store = Store(store.client, self.embedder, f"{self.config.collection}__rebuild")
            store.drop()  # a leftover from an interrupted rebuild
        store.collection(create=True)  # also checks the embedder matches
        existing = store.metadata_by_source()
        files = list(iter_files(paths))
        roots = [p.resolve() for p in paths if p.is_dir()]
        report = IngestReport()
        seen: dict[str, Path | str] = {}  # source -> the file or URL it came from in this run
        changed = False
        plans: list[_FilePlan] = []
        for n, path in enumerate(files, 1):
            if progress:
                progress(path.name, n - 1, len(files))
            root = str(path.parent.resolve())
            if path.name in seen:
                # Sources are identified by file name: a second file of that name would
                # silently replace the first one's chunks on every run.
                report.files.append(FileResult(
                    path.name, "skipped", reason=f"same file name as {seen[path.name]} (rename one of them)"
                ))
                continue
            seen[path.name] = path
            try:
                doc = load_document(path)
            except SkipFile as exc:
                kept = " (its previously ingested version is kept)" if path.name in existing else ""
                report.files.append(FileResult(path.name, "skipped", reason=f"{exc}{kept}"))
                continue
            plans.append(self._plan(doc, root, existing.get(doc.source, {}), {"origin": str(path.resolve())}))
            self._docs[doc.source] = doc
        sitemaps = self._plan_urls(urls, existing, seen, plans, report, progress) if urls else set()

        # All new chunks embedded and written in large batches (one Chroma write per 1000
        # chunks, not one per file), and only then anything deleted: a serving bot never
        # sees a document missing.
        fresh_all = [(plan, c) for plan in plans for c in plan.fresh]
        for start in range(0, len(fresh_all), EMBED_BATCH):
            batch = fresh_all[start:start + EMBED_BATCH]
            vectors = self.embedder.embed_passages([c.embed_text() for _, c in batch])
            store.upsert(
                [c.id for _, c in batch], [c.text for _, c in batch], [plan.metas[c.id] for plan, c in batch], vectors
            )
        for plan in plans:
            store.update_metadata(plan.retitled, [plan.metas[cid] for cid in plan.retitled])
            store.delete(plan.stale)
            report.chunks_added += len(plan.fresh)
            report.chunks_removed += len(plan.stale)
            touched = plan.fresh or plan.stale or plan.retitled
            status = "updated" if plan.had_chunks and touched else ("unchanged" if plan.had_chunks else "added")
            changed = changed or status != "unchanged"
            report.files.append(FileResult(plan.doc.source, status, plan.n_chunks, stripped=plan.doc.stripped))
        # Files that were ingested from one of these folders (or a subfolder) before and are gone now,
        # and pages that a sitemap ingested now listed before and lists no more.
        for source, old in existing.items():
            if source in seen:
                continue
            if any(_within(str(meta.get("root", "")), roots) or str(meta.get("root", "")) in sitemaps
                   for meta in old.values()):
                store.delete(sorted(old))
                report.chunks_removed += len(old)
                report.files.append(FileResult(source, "removed", len(old)))
                changed = True
        if progress and files:
            progress("", len(files), len(files))
        if changed or rebuild:
            store.bump_version()
        if rebuild:
            self.store.replace_with(store)
        if self._retriever is not None:
            self._retriever.invalidate()
        return report

    def _plan(self, doc: Document, root: str, old: dict[str, dict[str, Any]], extra: dict[str, Any]) -> _FilePlan:
        """What writing one document will take: new chunks, chunks whose metadata changed, stale chunks."""
        chunks = chunk_document(doc)
        now = _now()
        extra = {**extra, "location_kind": getattr(doc, "location_kind", "section") or "section"}
        metas = {c.id: {**c.metadata(doc, root), **extra} for c in chunks}
        # New text, or the same text under another section / question (they are embedded with it).
        fresh = [c for c in chunks if c.id not in old or _embedded_context(old[c.id]) != _embedded_context(
            metas[c.id])]
        fresh_ids = {c.id for c in fresh}
        for cid, meta in metas.items():  # when this text was ingested: now, or when it was first
            meta["ingested_at"] = now if cid in fresh_ids else str(old[cid].get("ingested_at") or now)
        retitled = [c.id for c in chunks if c.id not in fresh_ids and _differs(old[c.id], metas[c.id])]
        stale = sorted(set(old) - set(metas))
        return _FilePlan(doc, len(chunks), metas, fresh, retitled, stale, bool(old))

    def _plan_urls(
        self, urls: list[str], existing: dict[str, dict[str, dict[str, Any]]], seen: dict[str, Path | str],
        plans: list[_FilePlan], report: IngestReport, progress: Progress | None = None,
    ) -> set[str]:
        """Fetch pages (each sitemap's pages), conditionally when fetched before, and plan the changed ones.

        Returns the sitemaps read in full: their pages ingested before and not listed now get removed.
        """
        from .web import Fetcher, FetchError, looks_like_sitemap, parse_sitemap

        sitemaps: set[str] = set()
        queue: list[tuple[str, str, bool]] = [(u, u, True) for u in urls]  # (URL, root, may be a sitemap)
        done: set[str] = set()
        with Fetcher(self.config, self._http) as fetcher:
            while queue:
                url, root, given = queue.pop(0)
                if url in done:
                    continue
                done.add(url)
                name = source_name(url)
                if progress:
                    progress(name, len(done) - 1, len(done) + len(queue))
                old = existing.get(name, {})
                validators = _validators(old)
                try:
                    got = fetcher.fetch(url, etag=validators.get("etag"), last_modified=validators.get("last_modified"))
                    if given and got.status == 200 and looks_like_sitemap(got):
                        listed, nested = parse_sitemap(got.content)
                        sitemaps.add(url)
                        queue.extend((n, n, True) for n in nested)
                        queue.extend((page, url, False) for page in listed[:MAX_SITEMAP_PAGES])
                        continue
                except FetchError as exc:
                    kept = " (its previously ingested version is kept)" if old else ""
                    report.files.append(FileResult(name, "skipped", reason=f"{url}: {exc}{kept}"))
                    seen[name] = url
                    continue
                self._plan_page(url, root, got, old, seen, plans, report)
        if progress:
            progress("", len(done), len(done))
        return sitemaps

    def _plan_page(
        self, url: str, root: str, got: Fetched, old: dict[str, dict[str, Any]], seen: dict[str, Path | str],
        plans: list[_FilePlan], report: IngestReport,
    ) -> None:
        name = source_name(url)
        seen[name] = url
        validators = _validators(old)
        if old and (got.status == 304 or got.content_hash == validators.get("content_hash")) and all(
            str(m.get("root", "")) == root for m in old.values()
        ):
            report.files.append(FileResult(name, "unchanged", len(old)))
            return
        try:
            doc = load_fetched(name, url, got)
        except SkipFile as exc:
            kept = " (its previously ingested version is kept)" if old else ""
            report.files.append(FileResult(name, "skipped", reason=f"{url}: {exc}{kept}"))
            return
        extra = {"origin": url, "etag": got.etag or "", "last_modified": got.last_modified or "",
                 "content_hash": got.content_hash}
        plans.append(self._plan(doc, root, old, extra))
        self._docs[doc.source] = doc

    def is_empty(self) -> bool:
        return self.store.count() == 0

    def chunks(self) -> list[StoredChunk]:
        """Every chunk in the store, as the retriever holds them (a new list object after each change)."""
        return self.retriever.chunks

    def chunk_count(self) -> int:
        """How many chunks the store holds (asks the store: raises when it cannot be reached)."""
        return int(self.store.count())

    def version(self) -> str:
        """Changes whenever an ingest changed the store: readers key their caches on it."""
        return str(self.store.version())

    def ensure_ingested(self, paths: Iterable[Path]) -> IngestReport | None:
        """Ingest the default folder when the store is empty (first run of `careerbot ask`)."""
        if self.is_empty():
            return self.ingest(paths)
        return None

    # -- reading -----------------------------------------------------------------
    def search(self, query: str, k: int = 5, mode: Mode = "hybrid") -> Retrieval:
        return self.retriever.search(query, k=k, mode=mode)

    def embed(self, texts: list[str], *, query: bool = False) -> Any:
        """Unit vectors (numpy, one row per text) from the store's embedder, for sentence-level scoring."""
        if query:
            import numpy as np

            if not texts:
                return self.embedder.embed_passages([])
            return np.stack([self.embedder.embed_query(t) for t in texts])
        return self.embedder.embed_passages(list(texts))

    def role_catalog(self) -> RoleCatalog:
        """The roles the indexed documents describe; rebuilt only when the store version changes."""
        version = str(self.store.version())
        with self._roles_lock:
            if self._roles is not None and self._roles.version == version:
                return self._roles
            if version == "empty":
                catalog = RoleCatalog([], version)
            else:
                self.retriever.invalidate()  # read the chunks of this version
                catalog = build_catalog(self.retriever.chunks, version=version,
                                        embed=lambda texts: self.embedder.embed_passages(list(texts)))
            self._roles = catalog
            return catalog

    def sources(self) -> dict[str, dict[str, str | None]]:
        """source -> {title, url} for every document in the store."""
        out: dict[str, dict[str, str | None]] = {}
        for c in self.retriever.chunks:
            s = str(c.metadata.get("source", ""))
            url = str(c.metadata.get("url") or "") or None
            out.setdefault(s, {"title": str(c.metadata.get("title", "")), "url": url})
        return out

    def documents(self) -> list[DocumentInfo]:
        """What is indexed, one row per document (for `careerbot sources`)."""
        out: list[DocumentInfo] = []
        for source, chunks in sorted(self.store.metadata_by_source().items()):
            metas = list(chunks.values())
            first = min(metas, key=lambda m: int(m.get("position", 0) or 0))
            out.append(DocumentInfo(
                source=source,
                title=str(first.get("title", "")),
                location_kind=str(first.get("location_kind") or "section"),
                chunks=len(metas),
                ingested_at=max((str(m.get("ingested_at") or "") for m in metas), default="") or None,
                origin=str(first.get("origin") or first.get("root") or "") or None,
                url=str(first.get("url") or "") or None,
            ))
        return out

    def forget(self, source: str) -> int:
        """Remove one document's chunks; the number removed (0: no such document)."""
        ids = sorted(self.store.metadata_by_source().get(source, {}))
        if not ids:
            return 0
        self.store.delete(ids)
        self.store.bump_version()
        self._docs.pop(source, None)
        if self._retriever is not None:
            self._retriever.invalidate()
        return len(ids)

    def neighbours(self, passage: Passage) -> list[Passage]:
        """The chunks right before and after a retrieved passage in its document and section."""
        return self.retriever.neighbours(passage)

    def passages_of(self, source: str) -> list[str]:
        """The stored chunk texts of one document, in reading order."""
        chunks = [c for c in self.retriever.chunks if c.metadata.get("source") == source]
        chunks.sort(key=lambda c: int(c.metadata.get("position", 0)))
        return [c.text for c in chunks]

    def sections_of(self, source: str) -> list[tuple[str, str]]:
        """(chunk text, section path joined with " › ") of one document, in reading order."""
        chunks = [c for c in self.retriever.chunks if c.metadata.get("source") == source]
        chunks.sort(key=lambda c: int(c.metadata.get("position", 0)))
        return [(c.text, str(c.metadata.get("section", ""))) for c in chunks]


@dataclass(frozen=True)
class DocumentInfo:
    source: str
    title: str
    location_kind: str  # "section" | "page"
    chunks: int
    ingested_at: str | None  # ISO 8601 UTC, when its newest chunk was written
    origin: str | None  # the file's path, or the page's URL
    url: str | None

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source, "title": self.title, "location_kind": self.location_kind,
                "chunks": self.chunks, "ingested_at": self.ingested_at, "origin": self.origin, "url": self.url}


@dataclass
class _FilePlan:
    """What one file's ingest will write: computed for every file before anything is written."""

    doc: Document
    n_chunks: int
    metas: dict[str, dict[str, Any]]
    fresh: list[Chunk]
    retitled: list[str]
    stale: list[str]
    had_chunks: bool


def _differs(stored: dict[str, Any], wanted: dict[str, Any]) -> bool:
    """Whether a chunk's stored metadata (title, url, date, position...) is out of date."""
    return any(str(stored.get(k, "")) != str(v) for k, v in wanted.items() if k != "ingested_at")


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _validators(old: dict[str, dict[str, Any]]) -> dict[str, str]:
    """The stored ETag / Last-Modified / content hash of a page fetched before (any chunk carries them)."""
    for meta in old.values():
        return {k: str(meta.get(k) or "") for k in ("etag", "last_modified", "content_hash")}
    return {}


def _within(root: str, roots: list[Path]) -> bool:
    """Whether a chunk's folder is one of the ingested folders or lies under one."""
    if not root:
        return False
    folder = Path(root)
    return any(folder == r or folder.is_relative_to(r) for r in roots)


def _embedded_context(meta: dict[str, Any]) -> tuple[str, str, str]:
    """The metadata that goes into a chunk's embedding besides its text (see ``Chunk.embed_text``)."""
    return str(meta.get("heading", "")), str(meta.get("section", "")), str(meta.get("question", ""))
