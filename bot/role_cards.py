"""Role cards as the user sees them: the card and catalog data, and their plain text, JSON and Block Kit.

What goes into a card (matching, picking sentences, the LLM-written card) is ``bot.role_service``.
Every line of a card is a verbatim quote with its [n], so rendering never changes what a source says;
Slack output escapes document text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from knowledge.roles import Role, normalize
from knowledge.text import has_cjk, language

from . import prompts
from .answer import Citation
from .blocks import MAX_BLOCKS, SECTION_LIMIT, split_text
from .blocks import context as _context
from .blocks import section as _section
from .blocks import short as _short
from .markup import escape, link

CARD_BLOCKS = MAX_BLOCKS - 5  # room for the caller's query echo, "shared by" line and Share button
QUOTE_CHARS_SLACK = 400
LINE_CHARS_SLACK = 600

_TAG_EMOJI = {"growing": "📈", "reshaped": "🔄", "at risk": "⚠️", "unclear": "❔"}


@dataclass
class CardLine:
    text: str
    citations: list[int] = field(default_factory=list)

    def render(self) -> str:
        marks = "".join(f"[{n}]" for n in self.citations)
        return f"{self.text} {marks}".rstrip()


@dataclass
class CardSection:
    key: str  # does | skills | outlook | human
    title: str
    lines: list[CardLine]


@dataclass
class RoleCard:
    key: str
    title: str
    name: str
    zh: str | None
    aliases: list[str]
    outlook: str
    sections: list[CardSection]
    related: list[str]
    citations: list[Citation]
    mode: str = "extractive"
    language: str = "en"
    note: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "name": self.name,
            "zh": self.zh,
            "aliases": self.aliases,
            "outlook": self.outlook,
            "mode": self.mode,
            "sections": [
                {"key": s.key, "title": s.title,
                 "lines": [{"text": ln.text, "citations": ln.citations} for ln in s.lines]}
                for s in self.sections
            ],
            "related": self.related,
            "citations": [c.to_json() for c in self.citations],
            "note": self.note,
        }


@dataclass
class CatalogEntry:
    key: str
    name: str
    zh: str | None
    aliases: list[str]
    outlook: str
    sources: list[str]

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "name": self.name, "zh": self.zh, "aliases": self.aliases, "outlook": self.outlook,
                "sources": self.sources}


@dataclass
class RoleResult:
    query: str
    matched: bool
    card: RoleCard | None = None
    suggestions: list[str] = field(default_factory=list)
    match_kind: str | None = None  # exact | alias | fuzzy | free text
    catalog: list[CatalogEntry] = field(default_factory=list)  # filled when nothing matched
    latency_ms: float = 0.0

    @property
    def language(self) -> str:
        return "zh" if has_cjk(self.query) and language(self.query) == "zh" else "en"

    # -- plain text ----------------------------------------------------------------
    def to_text(self) -> str:
        if self.card is None:
            return self._unmatched_text()
        c = self.card
        lab = prompts.ROLE_LABELS[c.language]
        out: list[str] = []
        if self.match_kind in ("fuzzy", "free text"):
            kind = prompts.ROLE_MATCH_KIND_ZH[self.match_kind] if c.language == "zh" else self.match_kind
            out.append(lab["closest"].format(query=self.query, name=c.title, kind=kind))
            out.append("")
        out.append(f"{c.title} — {tag_text(c.outlook, c.language)}")
        if c.aliases:
            out.append(f"({lab['aliases']}: {', '.join(c.aliases[:8])})")
        for s in c.sections:
            out.append("")
            out.append(s.title)
            for ln in s.lines:
                out.append(f"  - {ln.render()}")
        if c.related:
            out.append("")
            out.append(f"{lab['related']}: {', '.join(c.related)}")
        if c.note:
            out.append("")
            out.append(c.note)
        if c.citations:
            out.append("")
            out.append(lab["sources"])
            for ct in c.citations:
                where = f"  {ct.url}" if ct.url else ""
                out.append(f"[{ct.n}] {ct.title} — {ct.source}{where}")
                out.append(f"    “{ct.quote}”")
        return "\n".join(out)

    def _unmatched_text(self) -> str:
        out: list[str] = []
        if self.query.strip():
            out.append(prompts.ROLE_NO_MATCH.format(query=f"“{self.query.strip()}”"))
            if self.suggestions:
                out.append(prompts.ROLE_DID_YOU_MEAN.format(names=", ".join(self.suggestions)))
            out.append("")
        out.append(catalog_text_of(self.catalog))
        return "\n".join(out)

    # -- JSON ------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "matched": self.matched,
            "match": self.match_kind,
            "card": self.card.to_json() if self.card else None,
            "citations": [c.to_json() for c in self.card.citations] if self.card else [],
            "suggestions": self.suggestions,
            "catalog": [e.to_json() for e in self.catalog] if not self.matched else [],
            "latency_ms": round(self.latency_ms, 1),
        }

    # -- Slack Block Kit -------------------------------------------------------------
    def to_blocks(self) -> list[dict[str, Any]]:
        """The card as Block Kit (≤ 50 blocks, sections ≤ 3000 chars, document text escaped).

        The caller adds the query echo and the "Share in channel" button.
        """
        if self.card is None:
            blocks: list[dict[str, Any]] = []
            if self.query.strip():
                text = prompts.ROLE_NO_MATCH.format(query=f"*{escape(_short(self.query, 200))}*")
                if self.suggestions:
                    names = ", ".join(f"*{escape(s)}*" for s in self.suggestions)
                    text += " " + prompts.ROLE_DID_YOU_MEAN.format(names=names)
                blocks.append(_section(text))
            blocks.extend(catalog_blocks_of(self.catalog, budget=CARD_BLOCKS - len(blocks)))
            return blocks[:CARD_BLOCKS]
        c = self.card
        lab = prompts.ROLE_LABELS[c.language]
        blocks = [
            {"type": "header", "text": {"type": "plain_text", "text": _short(f"{c.title}", 150), "emoji": True}},
        ]
        meta = f"{_TAG_EMOJI.get(c.outlook, '')} *{escape(tag_text(c.outlook, c.language))}*"
        if c.aliases:
            meta += f" · {lab['aliases']}: " + escape(", ".join(c.aliases[:6]))
        blocks.append(_context(meta))
        if self.match_kind in ("fuzzy", "free text"):
            kind = prompts.ROLE_MATCH_KIND_ZH[self.match_kind] if c.language == "zh" else self.match_kind
            blocks.append(_context("_" + escape(lab["closest"].format(query=_short(self.query, 200), name=c.title,
                                                                     kind=kind)) + "_"))
        for s in c.sections:
            body = "\n".join(f"• {escape(_short(ln.text, LINE_CHARS_SLACK))} {''.join(f'[{n}]' for n in ln.citations)}"
                             .rstrip() for ln in s.lines)
            for piece in split_text(f"*{escape(s.title)}*\n{body}", SECTION_LIMIT):
                blocks.append(_section(piece))
        if c.related:
            blocks.append(_context(f"*{escape(lab['related'])}:* " + escape(", ".join(c.related))))
        if c.note:
            blocks.append(_context(f"_{escape(c.note)}_"))
        if c.citations:
            blocks.append({"type": "divider"})
            blocks.append(_context(f"*{escape(lab['sources'])}*"))
            room = CARD_BLOCKS - len(blocks)
            for ct in c.citations[: max(0, room)]:
                title = link(ct.url, ct.title or ct.source)
                blocks.append(_context(f"*[{ct.n}]* {title} · `{escape(ct.source)}`\n> "
                                       f"{escape(_short(ct.quote, QUOTE_CHARS_SLACK))}"))
        return blocks[:CARD_BLOCKS]

    def fallback_text(self) -> str:
        """The message's plain ``text`` (notifications, screen readers)."""
        if self.card is None:
            return escape(_short(self._unmatched_text(), 3000))
        return escape(f"{self.card.title} — {tag_text(self.card.outlook, self.card.language)}")


def shown_aliases(role: Role) -> list[str]:
    """Aliases worth showing: the Chinese name first, plurals of names already shown left out."""
    seen = {normalize(role.name)}
    out = []
    zh = [role.zh] if role.zh and not all(p.strip() in role.aliases for p in role.zh.split("/")) else []
    for a in zh + role.aliases:
        n = normalize(a)
        if n and n not in seen:
            seen.add(n)
            out.append(a)
    return out


def catalog_entry(r: Role) -> CatalogEntry:
    return CatalogEntry(r.key, r.name, r.zh, shown_aliases(r), r.outlook, r.sources)


def tag_text(outlook: str, lang: str) -> str:
    return prompts.ROLE_OUTLOOK_ZH.get(outlook, outlook) if lang == "zh" else outlook


# --- catalog rendering ------------------------------------------------------------------

def catalog_text_of(entries: list[CatalogEntry]) -> str:
    if not entries:
        return prompts.ROLES_NONE_CLI
    width = max(len(e.name) for e in entries)
    lines = [prompts.ROLES_HEADING_CLI.format(n=len(entries)), ""]
    for e in entries:
        aliases = ", ".join(e.aliases[:6])
        lines.append(f"  {e.name:<{width}}  [{e.outlook}]  {aliases}")
    return "\n".join(lines)


def catalog_blocks_of(entries: list[CatalogEntry], budget: int = MAX_BLOCKS) -> list[dict[str, Any]]:
    if not entries:
        return [_section(prompts.ROLES_NONE_SLACK)]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": prompts.ROLES_TITLE, "emoji": True}},
        _context(prompts.ROLES_COUNT_SLACK.format(n=len(entries))),
    ]
    groups: dict[str, list[CatalogEntry]] = {}
    for e in entries:
        groups.setdefault(e.outlook, []).append(e)
    for tag in ("growing", "reshaped", "at risk", "unclear"):
        if tag not in groups:
            continue
        lines = [f"{_TAG_EMOJI[tag]} *{tag.capitalize()}*"]
        for e in groups[tag]:
            aliases = ", ".join(e.aliases[:4])
            lines.append(f"• *{escape(e.name)}*" + (f" — {escape(aliases)}" if aliases else ""))
        for piece in split_text("\n".join(lines), SECTION_LIMIT):
            blocks.append(_section(piece))
    return blocks[: max(1, budget)]


def __getattr__(name: str) -> Any:
    """``RoleService`` moved to ``bot.role_service``; still importable from here for code written before."""
    if name == "RoleService":
        from .role_service import RoleService

        return RoleService
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
