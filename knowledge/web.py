"""Fetching web pages for ingestion: guarded HTTP(S), conditional re-fetch, sitemaps.

Every request: a timeout (connect/read) and an overall deadline, a size cap enforced while streaming (a
50 MB body is cut off at the cap, never held in memory), a redirect cap with every hop checked again, and
a clear ``User-Agent: careerbot/<version>``. Hosts are resolved first and every address they resolve to
must be a global one: loopback, private, link-local, carrier-grade NAT, multicast and reserved addresses
are refused unless ``allow_private`` (CAREERBOT_ALLOW_PRIVATE_URLS=1: an intranet wiki, the tests), and the
address a connection really reached is checked again before its body is read (a DNS answer that changed
between the check and the connection).

A page fetched before is asked for again with ``If-None-Match`` / ``If-Modified-Since``; a 304, or a body
whose hash is the stored one, means unchanged.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import socket
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

from .config import KnowledgeConfig
from .errors import FetchError

REDIRECTS = (301, 302, 303, 307, 308)


@dataclass(frozen=True)
class Fetched:
    url: str  # after redirects
    status: int  # 200, or 304 (not modified: content is empty)
    content: bytes
    content_type: str
    etag: str | None
    last_modified: str | None

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def user_agent() -> str:
    try:
        from importlib.metadata import version

        return f"careerbot/{version('careerbot')}"
    except Exception:  # noqa: BLE001 - not installed (a bare source tree)
        return "careerbot/dev"


def is_url(text: str) -> bool:
    return bool(re.match(r"(?i)https?://", text))


def source_name(url: str) -> str:
    """A stable, readable document name for a URL: host and path ("example.com_blog_data-careers").

    A query string, or a name past 120 characters, adds a short hash of the whole URL so two pages never
    share a name.
    """
    parts = urlsplit(url)
    host = (parts.hostname or "").lower() + (f"_{parts.port}" if parts.port else "")
    path = parts.path.strip("/")
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", f"{host}/{path}" if path else host).strip("_.") or "page"
    if parts.query or len(name) > 120:
        name = f"{name[:100]}_{hashlib.sha256(url.encode()).hexdigest()[:8]}"
    return name


def check_address(url: str, *, allow_private: bool) -> None:
    """Refuse non-HTTP(S) URLs, and hosts that resolve to any non-global address (unless allowed)."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        raise FetchError(f"only http and https URLs can be fetched, not {parts.scheme or 'a bare path'!r}")
    host = parts.hostname
    if not host:
        raise FetchError("the URL has no host")
    if allow_private:
        return
    try:
        infos = socket.getaddrinfo(host, parts.port or (443 if parts.scheme.lower() == "https" else 80),
                                   type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError(f"cannot resolve {host}: {getattr(exc, 'strerror', None) or exc}") from None
    for info in infos:
        _check_ip(host, str(info[4][0]))


def _check_ip(host: str, ip: str) -> None:
    addr = ipaddress.ip_address(ip.split("%", 1)[0])
    mapped = getattr(addr, "ipv4_mapped", None)
    if mapped is not None:
        addr = mapped
    if not addr.is_global or addr.is_multicast:
        raise FetchError(
            f"refused: {host} resolves to {addr}, a {_kind(addr)} address "
            "(set CAREERBOT_ALLOW_PRIVATE_URLS=1 to fetch from private networks)"
        )


def _check_peer(url: str, resp: Any, *, allow_private: bool) -> None:
    """The address the connection really went to (a DNS answer may change between check and connect)."""
    if allow_private:
        return
    stream = resp.extensions.get("network_stream")
    peer = stream.get_extra_info("server_addr") if stream is not None else None
    if peer:
        _check_ip(urlsplit(url).hostname or "", str(peer[0]))


def _kind(addr: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    if addr.is_loopback:
        return "loopback"
    if addr.is_link_local:
        return "link-local"
    if addr.is_private:
        return "private-network"
    if addr.is_multicast:
        return "multicast"
    return "non-public"


class Fetcher:
    """One HTTP client for a whole ingest run; ``client`` is injectable (an httpx.Client)."""

    def __init__(self, config: KnowledgeConfig, client: Any = None) -> None:
        import httpx

        self.config = config
        self._client = client or httpx.Client(
            timeout=httpx.Timeout(config.fetch_timeout_s), follow_redirects=False,
            headers={"User-Agent": user_agent(), "Accept": "text/html, application/xhtml+xml, application/pdf, "
                     "application/xml;q=0.9, text/plain;q=0.8, */*;q=0.5"},
            trust_env=False,
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def fetch(self, url: str, *, etag: str | None = None, last_modified: str | None = None) -> Fetched:
        """GET with redirects followed by hand (each hop checked); FetchError with a one-line reason."""
        import httpx

        cfg = self.config
        headers: dict[str, str] = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        deadline = time.monotonic() + 3 * cfg.fetch_timeout_s
        current = url
        for _hop in range(cfg.fetch_max_redirects + 1):
            check_address(current, allow_private=cfg.allow_private_urls)
            try:
                with self._client.stream("GET", current, headers=headers) as resp:
                    _check_peer(current, resp, allow_private=cfg.allow_private_urls)
                    if resp.status_code == 304:
                        return Fetched(current, 304, b"", "", etag, last_modified)
                    if resp.status_code in REDIRECTS:
                        location = resp.headers.get("location")
                        if not location:
                            raise FetchError(f"HTTP {resp.status_code} redirect without a Location")
                        current = urljoin(current, location)
                        continue
                    if resp.status_code >= 400:
                        raise FetchError(f"HTTP {resp.status_code} {resp.reason_phrase}".strip())
                    declared = resp.headers.get("content-length", "")
                    if declared.isdigit() and int(declared) > cfg.fetch_max_bytes:
                        raise FetchError(_too_large(int(declared), cfg.fetch_max_bytes))
                    body = bytearray()
                    for piece in resp.iter_bytes():
                        body.extend(piece)
                        if len(body) > cfg.fetch_max_bytes:
                            raise FetchError(_too_large(None, cfg.fetch_max_bytes))
                        if time.monotonic() > deadline:
                            raise FetchError(f"timed out after {3 * cfg.fetch_timeout_s:g} s (body too slow)")
                    return Fetched(
                        str(resp.url), resp.status_code, bytes(body),
                        resp.headers.get("content-type", "").split(";")[0].strip().lower(),
                        resp.headers.get("etag"), resp.headers.get("last-modified"),
                    )
            except httpx.TimeoutException:
                raise FetchError(f"timed out after {cfg.fetch_timeout_s:g} s") from None
            except httpx.HTTPError as exc:
                reason = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
                raise FetchError(f"cannot fetch: {reason}") from None
        raise FetchError(f"more than {cfg.fetch_max_redirects} redirects")


def _too_large(size: int | None, cap: int) -> str:
    if size is None:
        return f"too large (over the {_mb(cap)} limit)"
    return f"too large ({_mb(size)}; the limit is {_mb(cap)})"


def _mb(n: int) -> str:
    return f"{n / 1_048_576:.1f} MB".replace(".0 MB", " MB")


# --- sitemaps ------------------------------------------------------------------------------------

def looks_like_sitemap(fetched: Fetched) -> bool:
    head = fetched.content[:2048].lstrip()
    return (fetched.content_type in ("application/xml", "text/xml") or head.startswith(b"<?xml")) and (
        b"<urlset" in fetched.content[:4096] or b"<sitemapindex" in fetched.content[:4096]
    )


def parse_sitemap(content: bytes) -> tuple[list[str], list[str]]:
    """(page URLs, nested sitemap URLs) of a sitemap or sitemap index; FetchError when it is not XML."""
    from lxml import etree

    try:
        root = etree.fromstring(content, parser=etree.XMLParser(resolve_entities=False, no_network=True,
                                                                  huge_tree=False))
    except etree.XMLSyntaxError as exc:
        raise FetchError(f"not a valid sitemap ({str(exc).splitlines()[0][:120]})") from None
    locs = [(el.getparent(), (el.text or "").strip()) for el in root.iter() if _local(el.tag) == "loc"]
    pages = [u for parent, u in locs if u and parent is not None and _local(parent.tag) == "url"]
    nested = [u for parent, u in locs if u and parent is not None and _local(parent.tag) == "sitemap"]
    return list(dict.fromkeys(pages)), list(dict.fromkeys(nested))


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""
