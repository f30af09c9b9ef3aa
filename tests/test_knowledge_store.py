"""Ingestion into a real Chroma (embedded and `chroma run` server): idempotency, both store
modes, embedder mismatch, unreachable server, and the `careerbot ingest/search` commands."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import chromadb
import numpy as np
import pytest
from click.testing import CliRunner

from bot.cli import cli
from knowledge.base import KnowledgeBase
from knowledge.config import KnowledgeConfig
from knowledge.embeddings import E5Embedder, USEEmbedder
from knowledge.errors import EmbedderMismatch, StoreUnavailable
from tests.fakes.chroma_server import ChromaServer, free_port

SEEDS = Path(__file__).resolve().parent.parent / "seeds"

DOCS = {
    "translators.md": (
        "---\ntitle: Translators and LLMs\nlink: https://example.org/translators\ndate: 2024-01-05\n---\n\n"
        "## Translation work\n\nMachine translation by LLMs threatens routine translation and interpreting jobs.\n\n"
        "## Where humans stay\n\nLiterary translators and court interpreters keep cultural nuance in demand.\n"
    ),
    "mlops.txt": (
        "Careers in MLOps\n\nMLOps engineers deploy, monitor and retrain models in production.\n\n"
        "They own feature stores, CI pipelines for models and quantisation for cheaper inference.\n"
    ),
    "tuiguang.txt": (
        "大模型推理工程师的一天\n\n推理工程师负责把大模型部署上线，降低延迟和显存占用。\n\n"
        "他们熟悉量化、批处理和KV缓存等推理优化技术。\n"
    ),
}


class MemoEmbedder:
    """The real E5 model, remembering vectors it already computed.

    Every test ingests the same few documents; on 2 shared cores re-embedding them
    would dominate the runtime. Vectors, id and dimension are E5's own.
    """

    def __init__(self) -> None:
        self._inner = E5Embedder()
        self.id, self.dim = self._inner.id, self._inner.dim
        self._passages: dict[str, np.ndarray] = {}
        self._queries: dict[str, np.ndarray] = {}

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        todo = [t for t in dict.fromkeys(texts) if t not in self._passages]
        for text, vec in zip(todo, self._inner.embed_passages(todo), strict=True):
            self._passages[text] = vec
        return np.stack([self._passages[t] for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        if text not in self._queries:
            self._queries[text] = self._inner.embed_query(text)
        return self._queries[text]


@pytest.fixture(scope="module")
def e5() -> MemoEmbedder:
    """One loaded model for the module (loading it per test would dominate the runtime)."""
    return MemoEmbedder()


def _folder(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in DOCS.items():
        (root / name).write_text(text, encoding="utf-8")
    return root


def _kb(data: Path, embedder: object, **kw: object) -> KnowledgeBase:
    return KnowledgeBase(KnowledgeConfig(data_dir=data, **kw), embedder=embedder)  # type: ignore[arg-type]


def _ids(kb: KnowledgeBase) -> dict[str, set[str]]:
    return {s: set(ids) for s, ids in kb.store.ids_by_source().items()}


def _statuses(report: object) -> dict[str, str]:
    return {f.source: f.status for f in report.files}  # type: ignore[attr-defined]


# --- idempotent ingestion -------------------------------------------------------


def test_reingesting_unchanged_files_writes_nothing(tmp_path: Path, e5: MemoEmbedder) -> None:
    folder = _folder(tmp_path / "docs")
    kb = _kb(tmp_path / "data", e5)
    first = kb.ingest([folder])
    assert _statuses(first) == dict.fromkeys(DOCS, "added")
    assert first.chunks_added == kb.store.count() > 0
    before, version = _ids(kb), kb.store.version()

    again = _kb(tmp_path / "data", e5).ingest([folder])  # a fresh process-like instance
    assert _statuses(again) == dict.fromkeys(DOCS, "unchanged")
    assert (again.chunks_added, again.chunks_removed) == (0, 0)
    assert _ids(kb) == before
    assert kb.store.version() == version  # readers' caches stay valid


def test_editing_a_paragraph_replaces_only_its_chunk(tmp_path: Path, e5: MemoEmbedder) -> None:
    folder = _folder(tmp_path / "docs")
    kb = _kb(tmp_path / "data", e5)
    kb.ingest([folder])
    before = _ids(kb)
    path = folder / "translators.md"
    path.write_text(path.read_text().replace("court interpreters", "sign-language interpreters"), encoding="utf-8")

    report = kb.ingest([folder])
    assert _statuses(report) == {"translators.md": "updated", "mlops.txt": "unchanged", "tuiguang.txt": "unchanged"}
    after = _ids(kb)
    assert after["mlops.txt"] == before["mlops.txt"] and after["tuiguang.txt"] == before["tuiguang.txt"]
    kept, gone, new = (
        before["translators.md"] & after["translators.md"],
        before["translators.md"] - after["translators.md"],
        after["translators.md"] - before["translators.md"],
    )
    assert len(kept) >= 1 and len(gone) == 1 and len(new) == 1  # the untouched section keeps its id
    assert (report.chunks_added, report.chunks_removed) == (1, 1)
    texts = kb.passages_of("translators.md")
    assert any("sign-language interpreters" in t for t in texts)
    assert not any("court interpreters" in t for t in texts)
    hit = kb.search("sign-language interpreters", k=1, mode="lexical").passages[0]
    assert hit.source == "translators.md" and "sign-language" in hit.text


def test_changing_only_front_matter_updates_titles_without_new_chunks(tmp_path: Path, e5: MemoEmbedder) -> None:
    folder = _folder(tmp_path / "docs")
    kb = _kb(tmp_path / "data", e5)
    kb.ingest([folder])
    before = _ids(kb)
    path = folder / "translators.md"
    path.write_text(path.read_text().replace("title: Translators and LLMs", "title: Translation careers"))

    report = kb.ingest([folder])
    assert _statuses(report)["translators.md"] == "updated"
    assert report.chunks_added == 0 and _ids(kb) == before  # no re-embedding for a title change
    assert kb.sources()["translators.md"]["title"] == "Translation careers"
    assert kb.search("interpreting jobs", k=1).passages[0].title == "Translation careers"


def test_deleted_file_is_removed_from_the_store_and_search(tmp_path: Path, e5: MemoEmbedder) -> None:
    folder = _folder(tmp_path / "docs")
    kb = _kb(tmp_path / "data", e5)
    kb.ingest([folder])
    assert kb.search("MLOps feature stores", k=1).passages[0].source == "mlops.txt"
    (folder / "mlops.txt").unlink()

    report = kb.ingest([folder])
    assert _statuses(report)["mlops.txt"] == "removed"
    assert "mlops.txt" not in _ids(kb)
    assert "mlops.txt" not in kb.sources()
    assert all(p.source != "mlops.txt" for p in kb.search("MLOps feature stores", k=5).passages)


def test_renamed_file_is_added_under_its_new_name_and_the_old_one_removed(tmp_path: Path, e5: MemoEmbedder) -> None:
    folder = _folder(tmp_path / "docs")
    kb = _kb(tmp_path / "data", e5)
    kb.ingest([folder])
    (folder / "mlops.txt").rename(folder / "mlops-careers.txt")
    (folder / "new.md").write_text("# Data labelling\n\nAnnotators label data for RLHF reward models.\n")

    report = kb.ingest([folder])
    assert _statuses(report) == {
        "translators.md": "unchanged", "tuiguang.txt": "unchanged", "mlops-careers.txt": "added",
        "new.md": "added", "mlops.txt": "removed",
    }
    assert set(kb.sources()) == {"translators.md", "tuiguang.txt", "mlops-careers.txt", "new.md"}


def test_file_deleted_from_a_subfolder_is_removed(tmp_path: Path, e5: MemoEmbedder) -> None:
    folder = _folder(tmp_path / "docs")
    (folder / "sub").mkdir()
    (folder / "sub" / "nested.md").write_text("# Nested\n\nAI auditors check models for safety issues.\n")
    kb = _kb(tmp_path / "data", e5)
    assert _statuses(kb.ingest([folder]))["nested.md"] == "added"
    (folder / "sub" / "nested.md").unlink()
    assert _statuses(kb.ingest([folder]))["nested.md"] == "removed"
    assert "nested.md" not in kb.sources()


def test_ingesting_another_folder_leaves_the_first_alone(tmp_path: Path, e5: MemoEmbedder) -> None:
    kb = _kb(tmp_path / "data", e5)
    kb.ingest([_folder(tmp_path / "docs")])
    other = tmp_path / "other"
    other.mkdir()
    (other / "ethics.md").write_text("# AI ethics\n\nEthicists review model deployments.\n")
    report = kb.ingest([other])
    assert _statuses(report) == {"ethics.md": "added"}
    assert set(kb.sources()) == set(DOCS) | {"ethics.md"}


def test_two_files_with_the_same_name_do_not_erase_each_other(tmp_path: Path, e5: MemoEmbedder) -> None:
    folder = _folder(tmp_path / "docs")
    for sub, role in (("a", "Prompt engineers"), ("b", "Data annotators")):
        (folder / sub).mkdir()
        (folder / sub / "roles.md").write_text(f"# Roles\n\n{role} are in demand this year.\n")
    kb = _kb(tmp_path / "data", e5)
    first = kb.ingest([folder])
    (skipped,) = first.skipped
    assert skipped.source == "roles.md" and "same file name" in skipped.reason
    second = kb.ingest([folder])  # re-running must not delete the first roles.md's chunks
    assert _statuses(second)["roles.md"] in ("unchanged", "skipped")
    assert any("Prompt engineers" in t for t in kb.passages_of("roles.md"))


def test_a_file_that_turns_bad_keeps_its_previous_version(tmp_path: Path, e5: MemoEmbedder) -> None:
    folder = _folder(tmp_path / "docs")
    kb = _kb(tmp_path / "data", e5)
    kb.ingest([folder])
    before = _ids(kb)["mlops.txt"]
    (folder / "mlops.txt").write_bytes(b"\xff\xfe broken \x81 save")
    report = kb.ingest([folder])
    (skipped,) = report.skipped
    assert skipped.source == "mlops.txt" and "UTF" in skipped.reason and "kept" in skipped.reason
    assert "removed" not in _statuses(report).values()
    assert _ids(kb)["mlops.txt"] == before


# --- both store modes -------------------------------------------------------------


def test_embedded_and_server_stores_search_the_same(
    tmp_path: Path, e5: MemoEmbedder, chroma_server: ChromaServer
) -> None:
    folder = _folder(tmp_path / "docs")
    embedded = _kb(tmp_path / "data", e5)
    served = _kb(
        tmp_path / "unused", e5, chroma_host=chroma_server.host, chroma_port=chroma_server.port,
        collection="modes",
    )
    for kb in (embedded, served):
        assert _statuses(kb.ingest([folder])) == dict.fromkeys(DOCS, "added")
    assert not (tmp_path / "unused").exists()  # the server mode writes nothing locally
    direct = chromadb.HttpClient(host=chroma_server.host, port=chroma_server.port)
    assert direct.get_collection("modes").count() == embedded.store.count() > 0  # the data is on the server
    assert _ids(served) == _ids(embedded)
    assert _statuses(served.ingest([folder])) == dict.fromkeys(DOCS, "unchanged")
    for query in ("Which jobs do LLMs put at risk?", "推理优化需要哪些技术", "who monitors models in production"):
        a, b = embedded.search(query, k=3), served.search(query, k=3)
        assert [p.id for p in a.passages] == [p.id for p in b.passages], query
        assert [p.dense for p in a.passages] == pytest.approx([p.dense for p in b.passages], abs=1e-4)
    assert served.search("推理优化需要哪些技术", k=1).passages[0].source == "tuiguang.txt"
    assert served.search("which jobs are at risk from machine translation", k=1).passages[0].source == "translators.md"


def _expected_ids(folder: Path) -> set[str]:
    from knowledge.ingest import chunk_document, iter_files, load_document

    return {c.id for f in iter_files([folder]) for c in chunk_document(load_document(f))}


def test_concurrent_ingests_converge_on_the_files(
    tmp_path: Path, e5: MemoEmbedder, chroma_server: ChromaServer
) -> None:
    folder = _folder(tmp_path / "docs")
    kw = {"chroma_host": chroma_server.host, "chroma_port": chroma_server.port, "collection": "concurrent"}

    def race() -> list[object]:
        kbs = [_kb(tmp_path / "unused", e5, **kw) for _ in range(2)]
        with ThreadPoolExecutor(2) as pool:
            return [f.result(timeout=120) for f in [pool.submit(kb.ingest, [folder]) for kb in kbs]]

    race()  # both may try to create the collection
    reader = _kb(tmp_path / "unused", e5, **kw)
    assert set().union(*_ids(reader).values()) == _expected_ids(folder)
    path = folder / "mlops.txt"
    path.write_text(path.read_text().replace("feature stores", "vector databases"), encoding="utf-8")
    (folder / "translators.md").unlink()
    race()
    ids = _ids(reader)
    assert set().union(*ids.values()) == _expected_ids(folder)
    assert reader.store.count() == len(_expected_ids(folder))  # no duplicates, nothing stale


@pytest.mark.parametrize("mode", ["embedded", "server"])
def test_a_running_reader_survives_a_rebuild_by_another_process(
    mode: str, tmp_path: Path, e5: MemoEmbedder, chroma_server: ChromaServer
) -> None:
    kw: dict[str, object] = {}
    if mode == "server":
        kw = {"chroma_host": chroma_server.host, "chroma_port": chroma_server.port, "collection": "rebuilt"}
    folder = _folder(tmp_path / "docs")
    _kb(tmp_path / "data", e5, **kw).ingest([folder], rebuild=True)
    bot = _kb(tmp_path / "data", e5, **kw)  # e.g. the Slack bot, running for days
    bot.retriever.refresh_seconds = 0  # look at the store's version on every search
    assert bot.search("MLOps engineers", k=1).passages[0].source == "mlops.txt"

    (folder / "mlops.txt").unlink()
    _kb(tmp_path / "data", e5, **kw).ingest([folder], rebuild=True)  # `careerbot ingest --rebuild`
    sources = {p.source for p in bot.search("MLOps engineers", k=5).passages}
    assert sources and "mlops.txt" not in sources


@pytest.mark.parametrize("mode", ["embedded", "server"])
def test_searches_keep_answering_during_a_rebuild(
    mode: str, tmp_path: Path, e5: MemoEmbedder, chroma_server: ChromaServer
) -> None:
    """`ingest --rebuild` builds the new collection aside and swaps it in: no empty or failed search."""
    kw: dict[str, object] = {}
    if mode == "server":
        kw = {"chroma_host": chroma_server.host, "chroma_port": chroma_server.port, "collection": "swap"}
    folder = _folder(tmp_path / "docs")
    _kb(tmp_path / "data", e5, **kw).ingest([folder])
    bot = _kb(tmp_path / "data", e5, **kw)
    bot.retriever.refresh_seconds = 0
    assert bot.search("MLOps engineers", k=1).passages

    results: list[int] = []
    errors: list[str] = []

    def ask_repeatedly() -> None:
        for _ in range(40):
            try:
                r = bot.search("MLOps engineers", k=3)
                results.append(len(r.passages))
                if not r.passages:
                    errors.append(f"empty result (store count {bot.store.count()})")
            except Exception as exc:  # a failed search is what the user would notice
                errors.append(f"{type(exc).__name__}: {exc}")

    with ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(ask_repeatedly)
        for _ in range(2):
            _kb(tmp_path / "data", e5, **kw).ingest([folder], rebuild=True)
        future.result(timeout=120)
    assert not errors and results and min(results) > 0, (errors, results)
    assert bot.search("MLOps engineers", k=1).passages[0].source == "mlops.txt"
    assert bot.store.count() == len(_expected_ids(folder))  # the swap left no duplicates behind


# --- embedder mismatch -----------------------------------------------------------


@pytest.fixture(scope="module")
def use_embedder() -> USEEmbedder:
    return USEEmbedder()


@pytest.mark.parametrize("mode", ["embedded", "server"])
def test_opening_a_collection_with_another_embedder_says_to_reingest(
    mode: str, tmp_path: Path, e5: MemoEmbedder, use_embedder: USEEmbedder, chroma_server: ChromaServer
) -> None:
    kw: dict[str, object] = {}
    if mode == "server":
        kw = {"chroma_host": chroma_server.host, "chroma_port": chroma_server.port, "collection": "mismatch"}
    folder = _folder(tmp_path / "docs")
    _kb(tmp_path / "data", use_embedder, **kw).ingest([folder], rebuild=True)

    wrong = _kb(tmp_path / "data", e5, **kw)
    for call in (lambda: wrong.search("translation jobs"), lambda: wrong.ingest([folder]), wrong.is_empty):
        with pytest.raises(EmbedderMismatch) as err:
            call()
        assert "careerbot ingest --rebuild" in str(err.value)
        assert "\n" not in str(err.value)

    fixed = _kb(tmp_path / "data", e5, **kw).ingest([folder], rebuild=True)
    assert _statuses(fixed) == dict.fromkeys(DOCS, "added")
    assert _kb(tmp_path / "data", e5, **kw).search("MLOps engineers", k=1).passages[0].source == "mlops.txt"


# --- the CLI -----------------------------------------------------------------------


def test_cli_embedder_mismatch_is_one_line_and_rebuild_fixes_it(clean_env: Path) -> None:
    folder = clean_env / "docs"
    folder.mkdir()
    (folder / "translators.md").write_text(DOCS["translators.md"], encoding="utf-8")
    runner = CliRunner()
    built = runner.invoke(cli, ["ingest", "-q", str(folder)], env={"CAREERBOT_EMBEDDINGS": "e5"})
    assert built.exit_code == 0, built.output

    res = runner.invoke(cli, ["search", "translation jobs"])
    assert res.exit_code != 0
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and "careerbot ingest --rebuild" in lines[0]
    assert "Traceback" not in res.output

    rebuilt = runner.invoke(cli, ["ingest", "-q", "--rebuild", str(folder)])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "added" in rebuilt.stdout
    ok = runner.invoke(cli, ["search", "translation jobs", "--json"])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["passages"][0]["source"] == "translators.md"


def test_cli_search_prints_ranked_passages_with_sources(clean_env: Path, kb_data_dir: Path) -> None:
    env = {"CAREERBOT_DATA_DIR": str(kb_data_dir)}  # the session's seeded store, read only
    runner = CliRunner()
    res = runner.invoke(cli, ["search", "which jobs are at risk from LLMs", "-k", "3"], env=env)
    assert res.exit_code == 0, res.output
    ranked = [line for line in res.stdout.splitlines() if line[:2] in ("1.", "2.", "3.")]
    assert len(ranked) == 3
    assert "003_0c1c93809ca1b7a8.txt" in ranked[0] and "The Impact of Large Language Models" in ranked[0]

    res = runner.invoke(cli, ["search", "which jobs are at risk from LLMs", "--json"], env=env)
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert [p["rank"] for p in data["passages"]] == [1, 2, 3, 4, 5]
    top = data["passages"][0]
    assert top["source"] == "003_0c1c93809ca1b7a8.txt" and top["text"] and top["title"]
    scores = [p["score"] for p in data["passages"]]
    assert scores == sorted(scores, reverse=True)
    assert 0.0 <= data["coverage"] <= 1.0


def test_cli_against_a_chroma_server(clean_env: Path, chroma_server: ChromaServer) -> None:
    folder = clean_env / "docs"
    folder.mkdir()
    for name in ("tuiguang.txt", "mlops.txt"):
        (folder / name).write_text(DOCS[name], encoding="utf-8")
    env = {"CHROMA_HOST": chroma_server.host, "CHROMA_PORT": str(chroma_server.port)}
    runner = CliRunner()
    res = runner.invoke(cli, ["ingest", "-q", "--rebuild", str(folder)], env=env)
    assert res.exit_code == 0, res.output
    res = runner.invoke(cli, ["search", "推理工程师做什么", "--json", "-k", "2"], env=env)
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["passages"][0]["source"] == "tuiguang.txt"
    assert not (clean_env / "data" / "chroma").exists()  # nothing was written to the local store (caches may be)


def _run_cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args], env={**base, **env}, cwd=cwd,
        capture_output=True, text=True, timeout=120,
    )


def test_unreachable_chroma_server_is_one_clear_line(tmp_path: Path, clean_env: Path) -> None:
    env = {
        "CHROMA_HOST": "127.0.0.1", "CHROMA_PORT": str(free_port()), "ANONYMIZED_TELEMETRY": "False",
        "CAREERBOT_DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(Path(__file__).resolve().parent.parent),
    }
    res = _run_cli(["search", "which jobs are at risk from LLMs"], env, tmp_path)  # a real process: all output
    ingest = CliRunner().invoke(cli, ["ingest", "-q"], env=env)
    for code, out, err in ((res.returncode, res.stdout, res.stderr), (ingest.exit_code, ingest.stdout, ingest.stderr)):
        assert code != 0
        assert out == ""
        lines = err.strip().splitlines()
        assert len(lines) == 1, err
        assert lines[0].startswith("Error: ") and "Chroma server" in lines[0] and env["CHROMA_PORT"] in lines[0]
        assert "Traceback" not in err


def test_server_going_away_is_a_store_error_not_a_crash(tmp_path: Path, e5: MemoEmbedder) -> None:
    with ChromaServer(tmp_path / "server") as server:
        kb = _kb(tmp_path / "unused", e5, chroma_host=server.host, chroma_port=server.port)
        kb.ingest([_folder(tmp_path / "docs")])
        server.stop()
        with pytest.raises(StoreUnavailable):
            _kb(tmp_path / "unused", e5, chroma_host=server.host, chroma_port=server.port).search("MLOps")
        server.start()  # same data, same port: everything is still there
        again = _kb(tmp_path / "unused", e5, chroma_host=server.host, chroma_port=server.port)
        assert again.search("MLOps engineers", k=1).passages[0].source == "mlops.txt"


# --- stripped boilerplate never reaches the store or search ------------------------

PROMO_QUERIES = ("扫描二维码 领取资料包", "scan the QR code for a free course pack", "加微信 免费领取 大模型资料包")


def test_search_never_returns_stripped_boilerplate(kb: KnowledgeBase) -> None:
    for query in (*PROMO_QUERIES, "Leave a Reply: your email address will not be published"):
        for mode in ("hybrid", "lexical"):  # hybrid already includes the dense ranking
            passages = kb.search(query, k=5, mode=mode).passages  # type: ignore[arg-type]
            assert passages, (query, mode)
            for p in passages:
                for marker in ("二维码", "vx", "领取", "资料包", "Leave a Reply", "![[", "email address will not"):
                    assert marker not in p.text, (query, mode, marker, p.source)


def test_stored_seed_chunks_keep_the_real_content(kb: KnowledgeBase) -> None:
    zh = "\n".join(kb.passages_of("004_a012fad4e6cda691.txt"))
    assert "就看我们能不能抓住了" in zh and "推荐算法" in zh
    assert "学习大模型课程" not in zh
    assert kb.sources()["000_45b06a9571d21951.txt"]["url"] == (
        "https://newsletter.ruder.io/p/thoughts-on-the-2024-ai-job-market"
    )
    assert set(kb.sources()) == {p.name for p in SEEDS.glob("*.txt")}


def test_ingest_report_names_what_was_stripped(kb_data_dir: Path, tmp_path: Path, clean_env: Path) -> None:
    data = tmp_path / "copy"
    shutil.copytree(kb_data_dir, data)
    res = CliRunner().invoke(cli, ["ingest", "-q"], env={"CAREERBOT_DATA_DIR": str(data)})
    assert res.exit_code == 0, res.output
    out = res.stdout
    assert "unchanged 5" in out and "(0 chunks written, 0 deleted)" in out  # the seeds were already in
    blocks = ("\n" + out).split("\nunchanged ")
    by_source = {b.split()[0].strip(): b for b in blocks[1:]}
    assert "promotional block" in by_source["004_a012fad4e6cda691.txt"]
    assert "comment-form footer" in by_source["001_32f9b0a181c54d4b.txt"]
    assert "Obsidian embed" in by_source["000_45b06a9571d21951.txt"]
    assert "stripped" not in by_source["003_0c1c93809ca1b7a8.txt"].split("\n", 1)[0]
