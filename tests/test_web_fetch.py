"""Fetching pages for ingestion: timeouts, size cap, redirects, conditional requests, and refused addresses."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from knowledge.config import KnowledgeConfig
from knowledge.web import Fetcher, FetchError, check_address, parse_sitemap, source_name, user_agent
from tests.fakes.web_server import Route, WebServer


@pytest.fixture
def web() -> Iterator[WebServer]:
    with WebServer() as server:
        server.routes.update({
            "/page": Route(b"<html><body><p>Hello careers.</p></body></html>"),
            "/moved": Route(status=301, location="/page"),
            "/loop": Route(status=302, location="/loop"),
            "/slow": Route(slow=True),
            "/huge": Route(huge=50 * 1024 * 1024),
        })
        yield server


def fetcher(**config: object) -> Fetcher:
    return Fetcher(KnowledgeConfig(**{"allow_private_urls": True, "fetch_timeout_s": 0.5,
                                      "fetch_max_bytes": 1024 * 1024, **config}))


def test_a_page_is_fetched_with_our_user_agent_and_validators(web: WebServer) -> None:
    with fetcher() as f:
        got = f.fetch(web.url("/moved"))
    assert (got.status, got.url, got.content_type) == (200, web.url("/page"), "text/html")
    assert b"Hello careers." in got.content and got.etag and got.last_modified
    assert [r.path for r in web.requests] == ["/moved", "/page"]
    assert {r.headers["user-agent"] for r in web.requests} == {user_agent()}
    assert user_agent().startswith("careerbot/")


def test_a_conditional_request_gets_304(web: WebServer) -> None:
    with fetcher() as f:
        first = f.fetch(web.url("/page"))
        again = f.fetch(web.url("/page"), etag=first.etag, last_modified=first.last_modified)
    assert again.status == 304 and again.content == b""
    assert web.requests[-1].headers["if-none-match"] == first.etag


@pytest.mark.parametrize(("path", "words"), [
    ("/slow", "timed out after 0.5 s"),
    ("/huge", "too large (over the 1 MB limit)"),
    ("/missing", "HTTP 404 Not Found"),
    ("/loop", "more than 5 redirects"),
])
def test_bad_responses_are_one_line(web: WebServer, path: str, words: str) -> None:
    with fetcher() as f, pytest.raises(FetchError) as err:
        f.fetch(web.url(path))
    assert str(err.value) == words


def test_loopback_is_refused_without_the_setting_and_nothing_is_sent(web: WebServer) -> None:
    with fetcher(allow_private_urls=False) as f, pytest.raises(FetchError) as err:
        f.fetch(web.url("/page"))
    assert "refused" in str(err.value) and "loopback" in str(err.value)
    assert "CAREERBOT_ALLOW_PRIVATE_URLS=1" in str(err.value)
    assert web.requests == []


@pytest.mark.parametrize("url", [
    "http://127.0.0.1/", "http://localhost:8080/wiki", "http://10.1.2.3/", "http://192.168.0.10/",
    "http://169.254.169.254/latest/meta-data/", "http://[::1]/", "http://[fe80::1]/", "http://100.64.0.1/",
    "http://0.0.0.0/", "http://[::ffff:127.0.0.1]/",
])
def test_non_global_addresses_are_refused(url: str) -> None:
    with pytest.raises(FetchError, match="refused"):
        check_address(url, allow_private=False)
    check_address(url, allow_private=True)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/x", "gopher://example.com/"])
def test_only_http_and_https_are_fetched(url: str) -> None:
    with pytest.raises(FetchError, match="only http and https"):
        check_address(url, allow_private=True)


def test_source_names_are_readable_and_distinct() -> None:
    assert source_name("https://wiki.example.com/careers/data-analyst/") == "wiki.example.com_careers_data-analyst"
    assert source_name("http://127.0.0.1:8080/a/b.html") == "127.0.0.1_8080_a_b.html"
    a, b = source_name("https://x.org/page?id=1"), source_name("https://x.org/page?id=2")
    assert a != b and a.startswith("x.org_page_")


def test_sitemaps_and_sitemap_indexes_are_parsed() -> None:
    ns = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
    pages, nested = parse_sitemap(
        f'<?xml version="1.0"?><urlset {ns}><url><loc> https://a.org/x </loc></url>'
        f"<url><loc>https://a.org/y</loc></url><url><loc>https://a.org/x</loc></url></urlset>".encode())
    assert (pages, nested) == (["https://a.org/x", "https://a.org/y"], [])
    pages, nested = parse_sitemap(
        f'<?xml version="1.0"?><sitemapindex {ns}><sitemap><loc>https://a.org/s1.xml</loc></sitemap>'
        "</sitemapindex>".encode())
    assert (pages, nested) == ([], ["https://a.org/s1.xml"])
    with pytest.raises(FetchError, match="not a valid sitemap"):
        parse_sitemap(b"<urlset><url>")
