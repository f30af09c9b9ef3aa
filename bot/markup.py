"""Slack text in both directions: decode what users type, escape what the bot says.

Incoming message text carries Slack markup (``<@U123>``, ``<#C1|general>``, ``<https://x|label>``,
``&amp;``); the pipeline wants plain words. Outgoing text goes through mrkdwn, where ``<!channel>``
or ``<@U123>`` would ping people, so everything the bot posts is escaped and broadcast words are
broken up, whatever a document or a question contains.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_MARKUP = re.compile(r"<([^<>]*)>")
_BROADCAST = re.compile(r"@(channel|here|everyone)\b", re.IGNORECASE)
_ZWSP = "\u200b"


def decode(text: str, *, bot_user_id: str | None = None, user_name: Callable[[str], str | None] | None = None) -> str:
    """Slack message text -> the plain question: mentions of the bot removed, other markup made readable."""

    def replace(m: re.Match[str]) -> str:
        inner = m.group(1)
        target, _, label = inner.partition("|")
        if target.startswith("@"):
            uid = target[1:]
            if bot_user_id and uid == bot_user_id:
                return " "
            name = label or (user_name(uid) if user_name else None)
            return f"@{name}" if name else ""
        if target.startswith("#"):
            return f"#{label}" if label else ""
        if target.startswith("!"):
            # <!here>, <!channel>, <!subteam^S1|@team>, <!date^...|fallback>
            if label:
                return label.lstrip("@")
            return target[1:].split("^", 1)[0]
        return label or target.removeprefix("mailto:")

    out = _MARKUP.sub(replace, text or "")
    out = out.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    out = out.encode("utf-8", "replace").decode("utf-8")  # lone surrogates ("\ud800" in JSON) -> "?"
    return " ".join(out.split())


def escape(text: str) -> str:
    """Escape mrkdwn control characters and defuse @channel/@here/@everyone."""
    out = (text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _BROADCAST.sub(lambda m: f"@{_ZWSP}{m.group(1)}", out)


def markdown_to_mrkdwn(text: str) -> str:
    """The little Markdown an answer may use (**bold**, # headings, [t](url)) in Slack's dialect.

    Call on already-escaped text: links become ``<url|text>`` only for http(s) URLs.
    """
    out = re.sub(r"\*\*(.+?)\*\*", r"*\1*", text)
    out = re.sub(r"__(.+?)__", r"_\1_", out)
    out = re.sub(r"(?m)^#{1,6}\s+(.+?)\s*$", r"*\1*", out)
    out = re.sub(
        r"\[([^\]\n]{1,200})\]\((https?://[^\s()|]+)\)",
        lambda m: link(m.group(2), m.group(1), escaped=True),
        out,
    )
    return out


def link(url: str | None, label: str, *, escaped: bool = False) -> str:
    """``<url|label>`` for a safe http(s) URL, else just the (escaped) label."""
    text = label if escaped else escape(label)
    text = text.replace("|", "¦")
    if not url or not re.match(r"^https?://[^\s<>|]+$", url):
        return text
    if not escaped:
        url = url.replace("&", "&amp;")
    return f"<{url}|{text}>"
