"""The App Home tab: what the bot knows, how to ask it, and — for admins — how its answers are rated.

``home_view`` is a pure function of ``KnowledgeFacts`` (documents, last ingest, role catalog, the
suggested prompts as example questions) and, for users in CAREERBOT_ADMINS, a ``FeedbackDigest``.
The digest comes through a ``FeedbackSource`` (a function of "since"), so the view does not care
where votes are kept. Nothing configured (tokens, keys, URLs of servers) is ever shown.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .assistant import KnowledgeFacts, shorten
from .blocks import Block
from .blocks import context as _context
from .blocks import section as _section
from .markup import escape, link

if TYPE_CHECKING:
    from .state import Summary

MAX_DOCS_SHOWN = 20
MAX_ROLES_SHOWN = 30
MAX_LOWEST = 5
_OUTLOOK_EMOJI = {"growing": ":chart_with_upwards_trend:", "reshaped": ":arrows_counterclockwise:",
                  "at risk": ":warning:", "unclear": ":grey_question:"}


@dataclass(frozen=True)
class RatedAnswer:
    question: str
    up: int
    down: int
    sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class FeedbackDigest:
    """Votes since ``since`` (epoch seconds): totals and the lowest-rated answers."""

    since: float
    up: int
    down: int
    answers: int | None = None  # answers given in the window, where known
    lowest: list[RatedAnswer] = field(default_factory=list)
    down_sources: list[tuple[str, str, int]] = field(default_factory=list)  # (file, title, down-voted answers)


FeedbackSource = Callable[[float], "FeedbackDigest | None"]


def digest_from_summary(summary: Summary) -> FeedbackDigest:
    """A digest from ``bot.state.Summary`` (what ``careerbot feedback`` prints)."""
    lowest = [RatedAnswer(a.question or "(unknown question)", a.up, a.down,
                          tuple(str(s.get("source") or "") for s in a.sources if s.get("source")))
              for a in summary.lowest if a.down][:MAX_LOWEST]
    return FeedbackDigest(summary.since, summary.up, summary.down, summary.answers, lowest,
                          list(summary.down_sources)[:MAX_LOWEST])


def _header(text: str) -> Block:
    return {"type": "header", "text": {"type": "plain_text", "text": text[:150], "emoji": True}}


def _when(ts: float | None) -> str:
    if ts is None:
        return "unknown"
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(ts))


def home_view(facts: KnowledgeFacts, *, bot_user_id: str | None = None, digest: FeedbackDigest | None = None,
              is_admin: bool = False, lang: str = "en") -> dict[str, Any]:
    """The Home tab view for one user (``views.publish``); example questions in the user's language."""
    me = f"<@{bot_user_id}>" if bot_user_id else "@careerbot"
    blocks: list[Block] = [
        _header("careerbot"),
        _section("I answer career questions about AI and LLM work — which roles are growing or at risk, which "
                 "skills to build, how to switch — from the documents below, and cite every claim."),
        {"type": "divider"},
        _header("What I know"),
    ]
    docs = facts.documents
    if not docs:
        blocks.append(_section("My knowledge base is empty. An admin can index documents with `careerbot ingest`."))
    else:
        blocks.append(_section(f"*{len(docs)} document{'s' if len(docs) != 1 else ''}* · "
                               f"*{len(facts.roles)} role{'s' if len(facts.roles) != 1 else ''}* · "
                               f"last ingest {_when(facts.last_ingest)}"))
        lines = [f"• {link(d.url, shorten(d.title, 90))} `{escape(d.source)}`" for d in docs[:MAX_DOCS_SHOWN]]
        if len(docs) > MAX_DOCS_SHOWN:
            lines.append(f"_…and {len(docs) - MAX_DOCS_SHOWN} more_")
        blocks.append(_section("\n".join(lines)))
    if facts.roles:
        groups: dict[str, list[str]] = {}
        for r in facts.roles[:MAX_ROLES_SHOWN]:
            groups.setdefault(r.outlook, []).append(escape(r.name))
        lines = [f"{_OUTLOOK_EMOJI.get(tag, '')} *{tag.capitalize()}*: {', '.join(names)}"
                 for tag in ("growing", "reshaped", "at risk", "unclear") if (names := groups.get(tag))]
        blocks.append(_section("*Roles*\n" + "\n".join(lines)))
    blocks += [
        {"type": "divider"},
        _header("How to ask"),
        _section(
            "• *Assistant pane* — open careerbot from the AI apps button in Slack's top bar and ask; "
            "you'll get suggested questions to start.\n"
            f"• *Mention* — `{me} your question` in a channel; I answer in the thread, and a follow-up in the "
            "thread uses the earlier messages as context.\n"
            "• *Direct message* — write to me in the Messages tab.\n"
            "• `/career-role ROLE` — a role summary (what it does, skills, outlook, sources), only you see it "
            "until you share it. `/career-roles` — the role catalog."
        ),
    ]
    examples = facts.starters(lang)
    if examples:
        blocks.append(_section("*Try asking*\n" + "\n".join(f"• _{escape(s.message)}_" for s in examples)))
    blocks.append(_context("Every answer lists its sources, with 👍/👎 buttons — your votes help improve it."))
    if is_admin:
        blocks += [{"type": "divider"}, _header("Feedback (admins)")]
        blocks += _feedback_blocks(digest)
    return {"type": "home", "blocks": blocks[:100]}


def _feedback_blocks(digest: FeedbackDigest | None) -> list[Block]:
    if digest is None:
        return [_section("The feedback summary is unavailable right now.")]
    days = max(1, round((time.time() - digest.since) / 86400))
    total = digest.up + digest.down
    rate = f" ({digest.up * 100 // total}% helpful)" if total else ""
    answers = f"*{digest.answers}* answers · " if digest.answers is not None else ""
    out = [_section(f"Last {days} day{'s' if days != 1 else ''}: {answers}*{total}* votes — "
                    f"👍 {digest.up} · 👎 {digest.down}{rate}")]
    if digest.lowest:
        lines = []
        for r in digest.lowest:
            cited = f" · cites {', '.join(f'`{escape(s)}`' for s in r.sources[:3])}" if r.sources else ""
            lines.append(f"• _{escape(shorten(r.question, 120))}_ — 👍 {r.up} · 👎 {r.down}{cited}")
        out.append(_section("*Lowest-rated answers*\n" + "\n".join(lines)))
    if digest.down_sources:
        lines = [f"• {escape(shorten(title or src, 80))} `{escape(src)}` — {n}"
                 for src, title, n in digest.down_sources]
        out.append(_section("*Documents cited by down-voted answers*\n" + "\n".join(lines)))
    out.append(_context("The same figures as `careerbot feedback`. Only users in CAREERBOT_ADMINS see this part."))
    return out
