"""Which addresses the page fetcher accepts, source names for fetched pages, and sitemap parsing (no network)."""

from __future__ import annotations

import pytest

from knowledge.web import FetchError, check_address, parse_sitemap, source_name


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
