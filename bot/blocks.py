"""Block Kit messages for answers, refusals, errors and notices.

Slack rejects a message whose section text passes 3000 characters or that has more than 50
blocks, so answers are split at paragraph/sentence boundaries and, past a budget, truncated
with a note — a long answer is shortened, never refused. All text is escaped (``markup.escape``)
so nothing from a document or a question can ping a channel.
"""

from __future__ import annotations

from typing import Any

from . import prompts
from .answer import Answer
from .markup import escape, link, markdown_to_mrkdwn

SECTION_LIMIT = 3000
MAX_BLOCKS = 50
MAX_ANSWER_SECTIONS = 10  # ~30k characters: longer answers are truncated
QUOTE_CHARS = 180
FALLBACK_CHARS = 3500

FEEDBACK_UP = "feedback_up"
FEEDBACK_DOWN = "feedback_down"
SHARE_ROLE = "share_role"
ACTION_IDS = (FEEDBACK_UP, FEEDBACK_DOWN, SHARE_ROLE)


Block = dict[str, Any]


def split_text(text: str, limit: int = SECTION_LIMIT) -> list[str]:
    """Cut escaped mrkdwn into pieces of at most ``limit`` characters at the gentlest boundary."""
    pieces: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        window = rest[:limit]
        cut = -1
        for sep in ("\n\n", "\n", ". ", "。", "; ", ", ", " "):
            i = window.rfind(sep)
            if i > limit // 3:
                cut = i + len(sep)
                break
        if cut <= 0:
            cut = limit
            amp = window.rfind("&", max(0, limit - 6))
            if amp != -1 and ";" not in window[amp:]:
                cut = amp  # never split an &amp; entity
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


def section(text: str) -> Block:
    """A mrkdwn section block, within Slack's limit."""
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:SECTION_LIMIT]}}


def context(text: str) -> Block:
    """A context block (small grey text) of one mrkdwn element, within Slack's limit."""
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text[:SECTION_LIMIT]}]}


def short(text: str, limit: int) -> str:
    """``text`` on one line, cut to ``limit`` characters with an ellipsis."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def body_sections(text: str, budget: int) -> list[Block]:
    """The answer text as section blocks, at most ``budget`` of them."""
    pieces = split_text(markdown_to_mrkdwn(escape(text))) or ["_(no answer text)_"]
    if len(pieces) > budget:
        pieces = pieces[:budget]
        last = pieces[-1]
        pieces[-1] = last[: SECTION_LIMIT - len(prompts.TRUNCATED_NOTE) - 1].rstrip() + " " + prompts.TRUNCATED_NOTE
    return [section(p) for p in pieces]


def feedback_actions(feedback_id: str) -> Block:
    """👍/👎 buttons; the value is the stored answer's short id."""
    return {
        "type": "actions",
        "block_id": "feedback",
        "elements": [
            {
                "type": "button",
                "action_id": FEEDBACK_UP,
                "text": {"type": "plain_text", "text": prompts.FEEDBACK_UP_LABEL, "emoji": True},
                "value": feedback_id,
            },
            {
                "type": "button",
                "action_id": FEEDBACK_DOWN,
                "text": {"type": "plain_text", "text": prompts.FEEDBACK_DOWN_LABEL, "emoji": True},
                "value": feedback_id,
            },
        ],
    }


def source_blocks(answer: Answer) -> list[Block]:
    """A Sources heading and one context block per citation (title, link where known, where in it, short quote)."""
    if not answer.citations:
        return []
    out = [context(f"*{prompts.SOURCES_HEADING}*")]
    for c in answer.citations[:10]:
        title = link(c.url, c.title or c.source)
        quote = escape(short(c.quote, QUOTE_CHARS))
        where = f" · {escape(c.location)}" if c.location else ""
        out.append(context(f"*[{c.n}]* {title} · `{escape(c.source)}`{where}\n> {quote}"))
    return out


def answer_blocks(answer: Answer, feedback_id: str | None = None) -> list[Block]:
    """The whole answer message: text sections, a note, sources, feedback buttons (≤ 50 blocks)."""
    tail: list[Block] = []
    if answer.note:
        tail.append(context(f"_{escape(answer.note)}_"))
    tail.extend(source_blocks(answer))
    if feedback_id:
        tail.append(feedback_actions(feedback_id))
    budget = min(MAX_ANSWER_SECTIONS, MAX_BLOCKS - len(tail))
    return (body_sections(answer.text, budget) + tail)[:MAX_BLOCKS]


def answer_fallback(answer: Answer) -> str:
    """The plain ``text`` of the message: notifications, screen readers, old clients."""
    lines = [escape(short(answer.text, FALLBACK_CHARS))]
    if answer.citations:
        refs = "; ".join(f"[{c.n}] {escape(c.title or c.source)} ({escape(c.source)})" for c in answer.citations[:10])
        lines.append(prompts.SOURCES_LINE.format(refs=refs))
    return "\n".join(lines)


def notice_blocks(text: str) -> list[Block]:
    """A one-section message (errors, rate-limit and help notices). ``text`` is trusted mrkdwn."""
    return [section(text[:SECTION_LIMIT])]


def question_echo(question: str) -> Block:
    """Restates what was asked (slash command replies)."""
    return context(prompts.YOU_ASKED.format(question=escape(short(question, 300))))


def share_button(value: str) -> Block:
    return {
        "type": "actions",
        "block_id": "share",
        "elements": [
            {
                "type": "button",
                "action_id": SHARE_ROLE,
                "text": {"type": "plain_text", "text": prompts.SHARE_BUTTON, "emoji": True},
                "value": value[:2000],
                "style": "primary",
            }
        ],
    }
