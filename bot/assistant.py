"""What the assistant pane and the Home tab say about the knowledge base, and the thread-context store.

``KnowledgeFacts`` is read from the knowledge base's public interface (documents, store version,
role catalog) and cached per store version, so an ingest — here or by another replica — changes
the greeting, the suggested prompts and the Home tab on the next request, and nothing is
recomputed in between. Suggested prompts are built from what the corpus covers: its growing and
at-risk roles (the role catalog) and the document that speaks about the most of them — never a
fixed list.

``SlackThreadContexts`` keeps what ``assistant_thread_started`` / ``assistant_thread_context_changed``
report (the channel the user is looking at) as metadata on the bot's greeting in the thread — in Slack
itself, so any replica answering a later question in the thread can read it.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from slack_bolt.context.assistant.thread_context import AssistantThreadContext

from knowledge.text import language

from . import prompts

if TYPE_CHECKING:
    from knowledge.base import KnowledgeBase

    from .role_service import RoleService

log = logging.getLogger(__name__)

MAX_PROMPTS = 4
TITLE_CHARS = 60  # Slack shows suggested-prompt titles and thread titles on one short line
DOC_TITLE_CHARS = 70


@dataclass(frozen=True)
class DocumentFact:
    source: str
    title: str
    url: str | None


@dataclass(frozen=True)
class RoleFact:
    name: str
    zh: str | None
    outlook: str  # growing | reshaped | at risk | unclear
    sources: tuple[str, ...]

    def label(self, lang: str) -> str:
        return self.zh if lang == "zh" and self.zh else self.name


@dataclass(frozen=True)
class Starter:
    """One suggested prompt: a short button title and the question it sends."""

    title: str
    message: str

    def to_slack(self) -> dict[str, str]:
        return {"title": shorten(self.title, TITLE_CHARS), "message": self.message}


@dataclass(frozen=True)
class KnowledgeFacts:
    version: str
    documents: list[DocumentFact] = field(default_factory=list)
    roles: list[RoleFact] = field(default_factory=list)
    last_ingest: float | None = None  # epoch seconds of the last ingest that changed the store

    def starters(self, lang: str = "en", limit: int = MAX_PROMPTS) -> list[Starter]:
        return starters(self, lang, limit)

    def greeting(self, lang: str = "en") -> str:
        if not self.documents:
            return prompts.pick(prompts.GREETING_EMPTY, lang)
        n = len(self.documents)
        docs = prompts.pick(prompts.DOC_COUNT_ONE, lang) if n == 1 else prompts.pick(prompts.DOCS_COUNT, lang).format(
            n=n)
        return prompts.pick(prompts.GREETING, lang).format(docs=docs)


def shorten(text: str, limit: int) -> str:
    """One line of at most ``limit`` characters, cut at a word boundary where there is one."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,.;:，。") + "…"


def starters(facts: KnowledgeFacts, lang: str = "en", limit: int = MAX_PROMPTS) -> list[Starter]:
    """Suggested prompts from what this knowledge base covers.

    One growing role and one at-risk (or reshaped) role — those the most documents speak about —,
    the growing-vs-at-risk question when the catalog has both, the document that speaks about the
    most roles, then more roles while room is left. Empty when the store is.
    """
    if not facts.documents:
        return []
    by_reach = sorted(facts.roles, key=lambda r: (-len(r.sources), r.name))
    growing = [r for r in by_reach if r.outlook == "growing"]
    shrinking = [r for r in by_reach if r.outlook == "at risk"] or [r for r in by_reach if r.outlook == "reshaped"]
    templates = {"growing": prompts.STARTER_GROWING, "at risk": prompts.STARTER_AT_RISK,
                 "reshaped": prompts.STARTER_RESHAPED}

    def for_role(r: RoleFact) -> Starter:
        title, message = _pair(templates.get(r.outlook, prompts.STARTER_GROWING), lang)
        name = r.label(lang)
        return Starter(title.format(role=name), message.format(role=name))

    out: list[Starter] = []
    out += [for_role(r) for r in growing[:1]]
    out += [for_role(r) for r in shrinking[:1]]
    if growing and shrinking:
        title, message = _pair(prompts.STARTER_OUTLOOKS, lang)
        out.append(Starter(title, message))
    doc = _central_document(facts)
    if doc is not None:
        title, message = _pair(prompts.STARTER_DOCUMENT, lang)
        name = shorten(doc.title, DOC_TITLE_CHARS)
        out.append(Starter(title.format(title=name), message.format(title=name)))
    for r in by_reach:  # fill up with the next most-covered roles
        if len(out) >= limit:
            break
        s = for_role(r)
        if all(s.message != o.message for o in out):
            out.append(s)
    return out[:limit]


def _pair(table: dict[str, tuple[str, str]], lang: str) -> tuple[str, str]:
    return table.get(lang, table["en"])


def _central_document(facts: KnowledgeFacts) -> DocumentFact | None:
    """The document that speaks about the most catalog roles, among those with a whole, short title."""
    reach: dict[str, int] = {}
    for r in facts.roles:
        for s in r.sources:
            reach[s] = reach.get(s, 0) + 1
    titled = [d for d in facts.documents if d.title and not d.title.endswith("…") and len(d.title) <= DOC_TITLE_CHARS
              and d.title != d.source]
    if not titled:
        return None
    return max(titled, key=lambda d: (reach.get(d.source, 0), -facts.documents.index(d)))


def _ingest_time(version: str) -> float | None:
    """The store version is the ingest's time in milliseconds (knowledge.store.bump_version)."""
    try:
        ms = int(version)
    except ValueError:
        return None
    return ms / 1000.0 if ms > 10**12 else None


class KnowledgeView:
    """``KnowledgeFacts`` for the current store version; recomputed only after an ingest changed it."""

    def __init__(self, kb: KnowledgeBase, roles: Callable[[], RoleService | None]) -> None:
        self.kb = kb
        self._roles = roles
        self._cached: KnowledgeFacts | None = None
        self._lock = threading.Lock()

    def facts(self) -> KnowledgeFacts:
        version = self.kb.version()
        with self._lock:
            if self._cached is not None and self._cached.version == version:
                return self._cached
        facts = self._compute(version)
        with self._lock:
            self._cached = facts
        return facts

    def _compute(self, version: str) -> KnowledgeFacts:
        if version == "empty":
            return KnowledgeFacts(version)
        docs = [DocumentFact(source, str(meta.get("title") or source), meta.get("url"))
                for source, meta in sorted(self.kb.sources().items())]
        roles: list[RoleFact] = []
        try:
            service = self._roles()
            if service is not None:
                roles = [RoleFact(e.name, e.zh, e.outlook, tuple(e.sources)) for e in service.entries()]
        except Exception as exc:  # prompts and Home still work from the documents alone
            log.warning("role catalog unavailable: %s", type(exc).__name__)
        return KnowledgeFacts(version, docs, roles, _ingest_time(version))


def locale_language(locale: str | None, fallback: str = "en") -> str:
    """Slack's user locale (``zh-CN``, ``en-US``) -> the bot's answer language."""
    if not locale:
        return fallback
    return "zh" if locale.lower().startswith("zh") else "en"


def title_for(question: str) -> str:
    """A thread title from the question: its first line, shortened."""
    first = next((line for line in question.splitlines() if line.strip()), question)
    return shorten(first, TITLE_CHARS)


def question_language(question: str) -> str:
    return language(question) if question.strip() else "en"


# -- the channel the user is looking at ------------------------------------------------------------------
_CHANNEL_LINK = re.compile(r"<#([CG][A-Z0-9]+)(?:\|[^>]*)?>")
_DEICTIC = re.compile(r"\b(this|that|the current) (channel|conversation|discussion)\b|这个频道|本频道|这个对话|频道里",
                      re.IGNORECASE)


def may_ask_about_channel(raw_text: str) -> bool:
    """Whether the question could refer to a channel at all (a channel link, or "this channel")."""
    return bool(_CHANNEL_LINK.search(raw_text or "") or _DEICTIC.search(raw_text or ""))


def asks_about_channel(raw_text: str, channel_id: str) -> bool:
    """Whether the user refers to the channel they are looking at: a link to it, or "this channel"."""
    if any(m.group(1) == channel_id for m in _CHANNEL_LINK.finditer(raw_text or "")):
        return True
    return bool(_DEICTIC.search(raw_text or ""))


CONTEXT_EVENT_TYPE = "assistant_thread_context"  # the metadata bolt's own context store uses


def context_metadata(context: dict[str, Any]) -> dict[str, Any] | None:
    """Message metadata carrying what the user is looking at (ids only), or None when there is nothing."""
    kept = {k: str(v) for k, v in (context or {}).items() if k in ("channel_id", "team_id", "enterprise_id") and v}
    return {"event_type": CONTEXT_EVENT_TYPE, "event_payload": kept} if kept.get("channel_id") else None


class SlackThreadContexts:
    """The thread context kept where every replica can read it: as metadata on the bot's greeting in the thread.

    The same scheme as bolt's default store, but usable from a worker (no request context needed):
    ``save`` rewrites the metadata of the bot's first reply in the thread, ``find`` reads it back.
    """

    def __init__(self, client: Any, bot_user_id: str | None) -> None:
        self.client = client
        self.bot_user_id = bot_user_id

    def first_reply(self, channel_id: str, thread_ts: str) -> dict[str, Any] | None:
        """The bot's first message in the thread (its greeting), or None."""
        resp = self.client.conversations_replies(channel=channel_id, ts=thread_ts, include_all_metadata=True,
                                                 limit=10)
        for m in resp.get("messages") or []:
            if m.get("user") == self.bot_user_id and m.get("subtype") is None:
                return dict(m)
        return None

    def save(self, *, channel_id: str, thread_ts: str, context: dict[str, str], wait_s: float = 0.0) -> bool:
        """Put ``context`` on the greeting; False when there is none. ``wait_s``: how long a greeting still
        being posted (thread_started and context_changed race) is waited for."""
        metadata = context_metadata(context)
        if metadata is None:
            return False
        deadline = time.monotonic() + wait_s
        first = self.first_reply(channel_id, thread_ts)
        while first is None and time.monotonic() < deadline:
            time.sleep(0.25)
            first = self.first_reply(channel_id, thread_ts)
        if first is None:
            return False
        kwargs: dict[str, Any] = {"channel": channel_id, "ts": first["ts"], "text": first.get("text") or "",
                                  "metadata": metadata}
        if first.get("blocks"):
            kwargs["blocks"] = first["blocks"]
        self.client.chat_update(**kwargs)
        return True

    def find(self, *, channel_id: str, thread_ts: str) -> AssistantThreadContext | None:
        first = self.first_reply(channel_id, thread_ts)
        meta = (first or {}).get("metadata") or {}
        payload = meta.get("event_payload") or {}
        if meta.get("event_type") != CONTEXT_EVENT_TYPE or not payload.get("channel_id"):
            return None
        return AssistantThreadContext(dict(payload))
