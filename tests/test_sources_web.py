"""`careerbot ingest URL`: a local website on a free loopback port, fetched as a user's wiki would be."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from bot.cli import cli
from knowledge.base import KnowledgeBase
from knowledge.config import KnowledgeConfig
from knowledge.web import source_name, user_agent
from tests.fakes.documents import NAV_ONLY, guide_pdf, page
from tests.fakes.web_server import Route, WebServer

DATA_PAGE = page("Careers in data", (
    "<h1>Careers in data</h1>"
    "<p>Data careers reward people who explain numbers to colleagues who do not read charts.</p>"
    "<h2>Skills</h2><ul><li>Readable SQL is the skill hiring managers test first.</li></ul>"
))
ML_PAGE = page("Machine learning careers", (
    "<h1>Machine learning engineer</h1>"
    "<p>Machine learning engineers ship models into products and watch their drift in production.</p>"
))
NAV_WORDS = ("Home page", "About our team", "Open jobs board", "cookies", "Copyright", "Share on")


def sitemap(web: WebServer, *paths: str) -> Route:
    urls = "".join(f"<url><loc>{web.url(p)}</loc></url>" for p in paths)
    body = f'<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
    return Route(body.encode(), content_type="application/xml")


@pytest.fixture
def web() -> Iterator[WebServer]:
    with WebServer() as server:
        server.routes.update({
            "/guide/data-careers": Route(DATA_PAGE),
            "/guide/ml": Route(ML_PAGE),
            "/moved": Route(status=301, location="/guide/ml"),
            "/guide.pdf": Route(guide_pdf(), content_type="application/pdf"),
        })
        server.routes["/sitemap.xml"] = sitemap(server, "/guide/data-careers", "/moved", "/guide.pdf")
        yield server


def make_kb(tmp_path: Path, **config: Any) -> KnowledgeBase:
    return KnowledgeBase(KnowledgeConfig(data_dir=tmp_path / "data", **{"allow_private_urls": True, **config}))


def test_sitemap_ingest_indexes_its_pages_and_not_their_navigation(web: WebServer, tmp_path: Path) -> None:
    kb = make_kb(tmp_path)
    report = kb.ingest([web.url("/sitemap.xml")])
    assert not report.skipped, [f.reason for f in report.skipped]
    names = {source_name(web.url(p)) for p in ("/guide/data-careers", "/moved", "/guide.pdf")}
    assert {f.source for f in report.files if f.status == "added"} == names
    stored = "\n".join(c.text for c in kb.retriever.chunks)
    assert "Readable SQL is the skill hiring managers test first." in stored
    for word in NAV_WORDS:
        assert word not in stored, word
    hit = kb.search("what do machine learning engineers watch in production", k=1).passages[0]
    assert (hit.source, hit.url, hit.location) == (
        source_name(web.url("/moved")), web.url("/moved"), "Machine learning engineer")
    pdf_hit = kb.search("forecasting specialists holiday peak warehouses", k=1).passages[0]
    assert (pdf_hit.url, pdf_hit.location) == (web.url("/guide.pdf"), "page 2")
    agents = {r.headers.get("user-agent") for r in web.requests}
    assert agents == {user_agent()} and user_agent().startswith("careerbot/")


def test_reingest_of_unchanged_pages_asks_conditionally_and_writes_nothing(web: WebServer, tmp_path: Path) -> None:
    kb = make_kb(tmp_path)
    kb.ingest([web.url("/sitemap.xml")])
    version = kb.store.version()
    before = len(web.requests)
    again = kb.ingest([web.url("/sitemap.xml")])
    assert {f.status for f in again.files} == {"unchanged"} and again.chunks_added == again.chunks_removed == 0
    assert kb.store.version() == version  # nothing written
    pages = [r for r in web.requests[before:] if r.path != "/sitemap.xml"]
    assert pages and all(r.headers.get("if-none-match") for r in pages if r.path != "/moved")
    assert {r.status for r in pages} == {301, 304}


def test_a_changed_page_is_updated_and_a_page_the_sitemap_drops_is_removed(web: WebServer, tmp_path: Path) -> None:
    kb = make_kb(tmp_path)
    kb.ingest([web.url("/sitemap.xml")])
    web.routes["/guide/data-careers"] = Route(page("Careers in data", (
        "<h1>Careers in data</h1><p>Data careers now also ask for a working knowledge of dashboards.</p>")))
    web.routes["/sitemap.xml"] = sitemap(web, "/guide/data-careers", "/moved")
    report = kb.ingest([web.url("/sitemap.xml")])
    status = {f.source: f.status for f in report.files}
    assert status == {
        source_name(web.url("/guide/data-careers")): "updated",
        source_name(web.url("/moved")): "unchanged",
        source_name(web.url("/guide.pdf")): "removed",
    }
    assert source_name(web.url("/guide.pdf")) not in {d.source for d in kb.documents()}
    assert "working knowledge of dashboards" in kb.search("dashboards knowledge for data careers", k=1).passages[0].text


def test_bad_urls_are_one_line_each_and_the_rest_is_ingested(web: WebServer, tmp_path: Path) -> None:
    web.routes.update({
        "/slow": Route(slow=True),
        "/huge": Route(huge=50 * 1024 * 1024),
        "/menu": Route(NAV_ONLY),
        "/loop": Route(status=302, location="/loop"),
    })
    kb = make_kb(tmp_path, fetch_timeout_s=0.5, fetch_max_bytes=1024 * 1024)
    urls = [web.url(p) for p in ("/slow", "/huge", "/missing", "/menu", "/loop", "/guide/ml")]
    report = kb.ingest(urls)
    reasons = {f.source: f.reason for f in report.skipped}
    expected = {"/slow": "timed out", "/huge": "too large", "/missing": "HTTP 404", "/menu": "no main content",
                "/loop": "redirects"}
    for path, words in expected.items():
        reason = reasons[source_name(web.url(path))]
        assert words in reason and "\n" not in reason, reason
    assert [f.source for f in report.files if f.status == "added"] == [source_name(web.url("/guide/ml"))]


def test_loopback_is_refused_without_the_private_urls_setting(web: WebServer, tmp_path: Path) -> None:
    kb = KnowledgeBase(KnowledgeConfig(data_dir=tmp_path / "data"))
    report = kb.ingest([web.url("/guide/ml")])
    (skipped,) = report.skipped
    assert "refused" in skipped.reason and "loopback" in skipped.reason
    assert "CAREERBOT_ALLOW_PRIVATE_URLS" in skipped.reason
    assert web.requests == []  # nothing was sent


def test_cli_ingest_url_sources_and_forget(web: WebServer, clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    refused = runner.invoke(cli, ["ingest", "-q", web.url("/guide/ml")])
    assert refused.exit_code == 1 and "refused" in refused.stdout

    monkeypatch.setenv("CAREERBOT_ALLOW_PRIVATE_URLS", "1")
    docs = clean_env / "docs"
    docs.mkdir()
    (docs / "notes.md").write_text("# Notes\n\nData stewards keep the glossary of metrics up to date.\n")
    res = runner.invoke(cli, ["ingest", "-q", str(docs), web.url("/sitemap.xml")])
    assert res.exit_code == 0, res.output
    listed = json.loads(runner.invoke(cli, ["sources", "--json"]).stdout)["documents"]
    by_source = {d["source"]: d for d in listed}
    pdf = by_source[source_name(web.url("/guide.pdf"))]
    assert (pdf["location_kind"], pdf["chunks"], pdf["origin"]) == ("page", 2, web.url("/guide.pdf"))
    assert pdf["title"] == "Field Guide to Data Roles" and pdf["ingested_at"].endswith("Z")
    notes = by_source["notes.md"]
    assert (notes["location_kind"], notes["origin"]) == ("section", str((docs / "notes.md").resolve()))
    text = runner.invoke(cli, ["sources"]).stdout
    assert "notes.md" in text and web.url("/guide.pdf") in text and "4 documents" in text

    gone = runner.invoke(cli, ["forget", "notes.md"])
    assert gone.exit_code == 0 and "forgot notes.md" in gone.stdout
    assert "notes.md" not in {d["source"] for d in json.loads(runner.invoke(cli, ["sources", "--json"]).stdout)[
        "documents"]}
    unknown = runner.invoke(cli, ["forget", "notes.md"])
    assert unknown.exit_code == 1 and unknown.stderr.count("\n") == 1 and "no document named" in unknown.stderr
