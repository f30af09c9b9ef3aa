"""Posting to an interaction's ``response_url`` — only to Slack, never following a redirect.

A slash command or button click carries a ``response_url`` chosen by whoever signed the request; the
signature proves it came from Slack, but a bug or a leaked signing secret must not turn the bot into
a proxy for requests to internal addresses (loopback, 169.254.169.254 metadata, …). So a URL is
posted to only when it is HTTPS on one of Slack's hooks hosts (commercial and GovSlack), or when it has
the exact origin (scheme, host, port) of SLACK_API_URL set to something else (a proxy in front of
Slack, or the tests' fake Slack). Redirects are answered as failures, never followed.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from .settings import DEFAULT_SLACK_API_URL

log = logging.getLogger("careerbot.slack")

SLACK_HOOK_HOSTS = ("hooks.slack.com", "hooks.slack-gov.com")
MAX_ATTEMPTS = 3
MAX_RETRY_AFTER_S = 10.0


def _origin(url: str) -> tuple[str, str, int] | None:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    if scheme not in ("http", "https") or not host or parts.username or parts.password:
        return None
    return scheme, host, port or (443 if scheme == "https" else 80)


def allowed_response_url(url: Any, api_url: str = DEFAULT_SLACK_API_URL) -> bool:
    """True for Slack's hooks hosts over HTTPS, or the origin of a non-default SLACK_API_URL."""
    if not isinstance(url, str) or len(url) > 2000:
        return False
    origin = _origin(url)
    if origin is None:
        return False
    if origin[0] == "https" and origin[1] in SLACK_HOOK_HOSTS and origin[2] == 443:
        return True
    if api_url and api_url != DEFAULT_SLACK_API_URL:
        return origin == _origin(api_url)
    return False


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:  # a 3xx becomes an HTTPError
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def post_response(url: str, payload: dict[str, Any], *, api_url: str = DEFAULT_SLACK_API_URL,
                  timeout_s: float = 10.0) -> bool:
    """POST ``payload`` as JSON to ``url`` when allowed; retries 429/5xx/connection errors; True on 2xx."""
    if not allowed_response_url(url, api_url):
        log.warning("response_url refused: not a Slack hooks URL")
        return False
    data = json.dumps(payload).encode()
    for attempt in range(MAX_ATTEMPTS):
        req = urllib.request.Request(url, data=data, method="POST",
                                     headers={"content-type": "application/json;charset=utf-8"})
        try:
            with _OPENER.open(req, timeout=timeout_s) as resp:
                resp.read(65536)
                return bool(200 <= resp.status < 300)
        except urllib.error.HTTPError as exc:
            status = exc.code
            exc.close()
            if status in (429, 500, 502, 503, 504) and attempt + 1 < MAX_ATTEMPTS:
                try:
                    wait = float(exc.headers.get("retry-after") or 0.5) if status == 429 else 0.5 * (attempt + 1)
                except (TypeError, ValueError):
                    wait = 1.0
                time.sleep(min(max(wait, 0.0), MAX_RETRY_AFTER_S))
                continue
            log.warning("response_url post failed: HTTP %s", status)
            return False
        except (urllib.error.URLError, OSError, ValueError) as exc:
            if attempt + 1 < MAX_ATTEMPTS and not isinstance(exc, ValueError):
                time.sleep(0.3 * (attempt + 1))
                continue
            log.warning("response_url post failed: %s", type(exc).__name__)
            return False
    return False
