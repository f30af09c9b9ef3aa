"""Fetching pages for ingestion: timeouts, size cap, redirects, conditional requests, and refused addresses."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from knowledge.config import KnowledgeConfig
from knowledge.web import Fetcher, FetchError, user_agent
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


def fetcher(**config: Any) -> Fetcher:
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


