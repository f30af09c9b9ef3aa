"""Role cards assembled: match what the user typed, pick the role's sentences, or have the LLM write them.

``RoleService`` is what the CLI (`careerbot role`, `careerbot roles`) and Slack
(`/career-role`, `/career-roles`) call. It matches what the user typed against the
catalog built from the documents (``KnowledgeBase.role_catalog()``) and assembles a card from the
role's own verbatim sentences plus role-focused searches of the knowledge base. Lines
are quotes, so every citation is verbatim in its source by construction. When no role
fits, the result is the catalog with the closest suggestions — never an error.
Rendering is ``bot.role_cards``.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from typing import TYPE_CHECKING, Any

from knowledge.base import KnowledgeBase
from knowledge.retrieval import Passage
from knowledge.roles import (
    Evidence,
    Role,
    RoleCatalog,
    RoleMatch,
    human_value_clauses,
    outlook_cues,
    skill_strength,
)
from knowledge.roles.names import find_term
from knowledge.text import CJK_RE, has_cjk, language, split_sentences

from . import prompts
from .answer import Citation
from .role_cards import (
    CardLine,
    CardSection,
    CatalogEntry,
    RoleCard,
    RoleResult,
    catalog_blocks_of,
    catalog_entry,
    catalog_text_of,
    shown_aliases,
    tag_text,
)
from .settings import Settings

if TYPE_CHECKING:
    from .llm import LLMWriter
    from .pipeline import Pipeline
    from .similarity import SentenceVectors

log = logging.getLogger(__name__)

# Generic role-aspect queries a sentence is compared with (the same for every corpus and role).
ASPECT_QUERIES = {"does": "what does a {role} do", "skills": "skills needed for a {role}"}
MAX_DOES = 2
MAX_SKILLS = 3
MAX_OUTLOOK = 4
MAX_RELATED = 4


class RoleService:
    """Role cards and the role catalog over one KnowledgeBase."""

    def __init__(self, kb: KnowledgeBase, settings: Settings, pipeline: Pipeline | None = None) -> None:
        self.kb = kb
        self.settings = settings
        self.pipeline = pipeline
        self._cards: dict[tuple[str, str, str], RoleCard] = {}
        self._lock = threading.Lock()
        self._llm: LLMWriter | None = None
        self._llm_checked = False
        self._vecs: SentenceVectors | None = None

    def catalog(self) -> RoleCatalog:
        return self.kb.role_catalog()

    def entries(self) -> list[CatalogEntry]:
        cat = self.catalog()
        return [catalog_entry(r) for r in cat.roles]

    def card(self, query: str) -> RoleResult:
        """Match ``query`` to a role and build its card; unmatched → catalog and suggestions."""
        start = time.perf_counter()
        query = " ".join((query or "").split())
        cat = self.catalog()
        m = cat.match(query) if query else None
        if m is None:
            sugg = [r.name for r in cat.suggest(query)] if query else []
            return RoleResult(query, False, None, sugg, None, [catalog_entry(r) for r in cat.roles],
                              (time.perf_counter() - start) * 1000)
        lang = "zh" if has_cjk(query) and language(query) == "zh" else "en"
        key = (cat.version, m.role.key, lang)
        with self._lock:
            card = self._cards.get(key)
        if card is None:
            card, keep = self._build(cat, m, lang)
            with self._lock:
                if len(self._cards) > 256:
                    self._cards.clear()
                if keep:
                    self._cards[key] = card
        return RoleResult(query, True, card, [], m.kind, [], (time.perf_counter() - start) * 1000)

    def catalog_text(self) -> str:
        return catalog_text_of(self.entries())

    def catalog_blocks(self) -> list[dict[str, Any]]:
        return catalog_blocks_of(self.entries())

    # -- building --------------------------------------------------------------------
    def _build(self, cat: RoleCatalog, m: RoleMatch, lang: str) -> tuple[RoleCard, bool]:
        """The card, and whether it may be cached (an offline fallback for a failed LLM may not)."""
        role = m.role
        extra = self._searched(role)
        card = extractive_card(role, cat, extra, lang, self._aspects(role, extra))
        writer = self._writer()
        if writer is None:
            return card, True
        written, failure = self._llm_card(writer, role, card, extra, lang)
        if written is None:
            log.warning("LLM role card failed (%s); using the offline card", failure)
            card.note = prompts.pick(prompts.ROLE_LLM_UNAVAILABLE_NOTE, lang)
            return card, False
        return written, True

    def _aspects(self, role: Role, extra: list[Evidence]) -> dict[str, tuple[float, float]] | None:
        """Per sentence, its cosine with "what does a {role} do" and "skills needed for a {role}" (the
        generic role-aspect queries), from the store's embedder; None when embedding fails."""
        texts = list(dict.fromkeys(e.text for e in [*role.evidence, *extra]))
        if not texts:
            return {}
        queries = [ASPECT_QUERIES["does"].format(role=role.name), ASPECT_QUERIES["skills"].format(role=role.name)]
        try:
            vecs = self.kb.embed(texts + queries)
        except Exception as exc:  # the card falls back to reading the sentences' own words
            log.warning("role card embedding failed: %s", type(exc).__name__)
            return None
        does, skills = vecs[len(texts)], vecs[len(texts) + 1]
        return {t: (float(vecs[i] @ does), float(vecs[i] @ skills)) for i, t in enumerate(texts)}

    def _writer(self) -> LLMWriter | None:
        """The answers pipeline's LLM writer, or one from the settings; None offline."""
        with self._lock:
            if self._llm is not None or self._llm_checked:
                return self._llm
            self._llm_checked = True
            if self.pipeline is not None and hasattr(self.pipeline, "llm"):
                self._llm = self.pipeline.llm
            elif getattr(self.settings, "llm_enabled", False):
                from .llm import LLMWriter

                self._llm = LLMWriter.from_settings(self.settings)
            return self._llm

    def _vectors(self) -> SentenceVectors:
        with self._lock:
            if self._vecs is None:
                vecs = getattr(self.pipeline, "vectors", None)
                if vecs is None:
                    from .similarity import SentenceVectors

                    vecs = SentenceVectors(self.kb)
                self._vecs = vecs
            return self._vecs

    def _llm_card(self, writer: Any, role: Role, offline: RoleCard, extra: list[Evidence],
                  lang: str) -> tuple[RoleCard | None, str | None]:
        """An LLM-written card whose every sentence passed the answers' citation check."""
        from .citations import MARKER_RE, CitationChecker, markers
        from .llm import LLMFailure

        passages = role_passages(role, extra)
        if not passages:
            return None, "no source sentences"
        messages = prompts.build_role_messages(role.name, role.outlook, passages, lang)
        try:
            reply = writer.complete(messages)
        except LLMFailure as exc:
            return None, f"{exc.reason} after {exc.attempts} attempt(s)"
        except Exception as exc:  # never let the LLM path take the card down
            return None, f"unexpected {type(exc).__name__}"
        checker = CitationChecker(self._vectors())
        lab = prompts.ROLE_LABELS[lang]
        found: dict[str, list[CardLine]] = {}
        citations: list[Citation] = []
        numbers: dict[tuple[str, str], int] = {}
        for line in reply.split("\n"):
            mm = _LLM_LINE_RE.match(line)
            if not mm:
                continue
            # Each section alone through the answers' citation check (the label would blur the claim).
            checked, cits = checker.check(mm.group(2).strip(), passages)
            local: dict[int, int] = {}
            for c in cits:
                k = (c.source, c.quote)
                if k not in numbers:
                    numbers[k] = len(citations) + 1
                    citations.append(Citation(numbers[k], c.source, c.title, c.url, c.quote, c.location))
                local[c.n] = numbers[k]
            nums = [local[n] for n in dict.fromkeys(markers(checked)) if n in local]
            plain = MARKER_RE.sub("", checked).strip()
            if nums and plain and plain.lower().rstrip(".") != "none":
                found.setdefault(mm.group(1).lower(), []).append(CardLine(plain, nums))
        if not role.outlook_evidence():
            found.pop("outlook", None)  # no source states its outlook: the card says so, whatever the model wrote
        if not found:
            return None, "reply had no supported line"
        sections = [
            CardSection("does", lab["does"], found.get("does") or [CardLine(lab["no_does"])]),
            CardSection("skills", lab["skills"], found.get("skills") or [CardLine(lab["no_skills"])]),
            CardSection("outlook", f"{lab['outlook']}: {tag_text(role.outlook, lang)}",
                        found.get("outlook") or [CardLine(lab["no_outlook"])]),
        ]
        if found.get("human"):
            sections.append(CardSection("human", lab["human"], found["human"]))
        # Number the citations the kept lines use, 1..N in order of first use.
        renumber: dict[int, int] = {}
        for sec in sections:
            for ln in sec.lines:
                for n in ln.citations:
                    renumber.setdefault(n, len(renumber) + 1)
                ln.citations = [renumber[n] for n in ln.citations]
        kept = [Citation(renumber[c.n], c.source, c.title, c.url, c.quote, c.location)
                for c in citations if c.n in renumber]
        kept.sort(key=lambda c: c.n)
        return RoleCard(offline.key, offline.title, offline.name, offline.zh, offline.aliases, offline.outlook,
                        sections, offline.related, kept, "llm", lang), None

    def _searched(self, role: Role) -> list[Evidence]:
        """Sentences from role-focused searches that name the role, from documents that speak about it."""
        docs = set(role.sources)
        terms = role.text_terms()
        out: list[Evidence] = []
        seen = {e.text for e in role.evidence}
        queries = [f"{role.name} skills expertise qualifications", f"{role.name} job outlook demand risk"]
        if role.zh:
            queries.append(f"{role.zh} 前景 需求 技能")
        for q in queries:
            try:
                res = self.kb.search(q, k=4, mode="lexical")
            except Exception as exc:  # a search failure leaves the card to the role's own evidence
                log.warning("role search failed: %s", exc)
                continue
            for rank, p in enumerate(res.passages):
                if p.source not in docs:
                    continue
                for i, sent in enumerate(split_sentences(p.text)):
                    if sent.startswith("#") or sent in seen or not any(find_term(t, sent) for t in terms):
                        continue
                    seen.add(sent)
                    out.append(Evidence(p.source, p.title, p.url, sent, p.id, rank, 10_000 + rank * 100 + i,
                                        "topic", p.heading, "", p.location or None))
        return out


# --- extractive card ------------------------------------------------------------------

_KIND_RANK = {"definition": 0, "section": 1, "mention": 2, "context": 3, "topic": 4}


def extractive_card(role: Role, cat: RoleCatalog, extra: list[Evidence], lang: str = "en",
                    aspects: dict[str, tuple[float, float]] | None = None) -> RoleCard:
    """Pick the role's sentences for each section; each line is a verbatim quote with its [n].

    ``aspects`` gives each sentence's similarity to "what does a {role} do" and "skills needed for a
    {role}"; a skills line is a sentence closer to the second, a work line one closer to the first.
    Without it, the sentences' own wording decides (the offline fallback)."""
    lab = prompts.ROLE_LABELS[lang]
    ev = sorted(role.evidence, key=lambda e: (_KIND_RANK[e.kind], e.source, e.order))
    own = [e for e in ev if e.kind in ("definition", "section", "mention", "context")]
    used: set[str] = set()
    citations: list[Citation] = []
    index: dict[tuple[str, str], int] = {}

    def cite(e: Evidence, quote: str | None = None) -> int:
        k = (e.source, quote or e.text)
        if k not in index:
            index[k] = len(citations) + 1
            citations.append(Citation(index[k], e.source, e.title or e.source, e.url, quote or e.text, e.location))
        return index[k]

    def cues(e: Evidence) -> dict[str, int]:
        return outlook_cues(e.text)

    # A sentence that defines another role ("Machine Learning Engineer: … with data scientists") only
    # mentions this one: it does not say what this role does or needs.
    theirs = {e.text for r in cat.roles if r.key != role.key for e in r.evidence
              if e.kind in ("definition", "section")} - {e.text for e in ev if e.kind in ("definition", "section")}
    ev = [e for e in ev if e.text not in theirs]
    own = [e for e in own if e.text not in theirs]
    extra = [e for e in extra if e.text not in theirs]

    # Outlook lines are only the sentences the catalog kept as outlook statements about this role.
    stated = role.outlook_evidence()
    stated_texts = {e.text for e in stated}

    # 1. What it does: the document's own definition first.
    does_pick = [e for e in ev if e.kind == "definition" and e.text not in stated_texts and _useful(e.text)][:MAX_DOES]
    used.update(e.text for e in does_pick)

    # 2. Skills: the most concrete skill sentences about the role (its own, then searched ones naming it).
    standalone = [e for e in extra if not _ANAPHOR_RE.match(e.text)]  # "These positions…" needs its antecedent
    pool = [e for e in _unique(own + standalone) if e.text not in used and e.text not in stated_texts
            and _useful(e.text) and e.kind != "context"]
    if aspects is not None:
        pool = [e for e in pool if e.text in aspects and _skills_first(aspects[e.text])]
        pool.sort(key=lambda e: (-(aspects[e.text][1] - aspects[e.text][0] + aspects[e.text][1]
                                   + (0.05 if e in own else 0.0)), e.order))
    else:
        pool = [e for e in pool if skill_strength(e.text) >= 2]
        pool.sort(key=lambda e: (-(skill_strength(e.text) + (2 if e in own else 0)), _KIND_RANK[e.kind], e.order))
    skills_pick = pool[:MAX_SKILLS]
    used.update(e.text for e in skills_pick)

    # 3. Outlook: the stated sentences, those carrying the role's tag first, then the ones that best answer
    # how the role is doing (the catalog's order); shown in reading order.
    tag_key = role.outlook if role.outlook in ("growing", "at risk", "reshaped") else ""
    best = {(e.source, e.order): i for i, e in enumerate(stated)}
    ranked = sorted(_unique(stated), key=lambda e: (0 if tag_key and cues(e).get(tag_key) else 1,
                                                    best[(e.source, e.order)]))
    outlook_pick = sorted(ranked[:MAX_OUTLOOK], key=lambda e: (e.source, e.order))
    used.update(e.text for e in outlook_pick)

    # 4. More on what it does: mentions that describe work rather than prospects.
    if len(does_pick) < MAX_DOES:
        more = [e for e in ev if e.kind in ("section", "mention") and e.text not in used and _useful(e.text)
                and e.text not in stated_texts]
        if aspects is not None:
            more = [e for e in more if e.text in aspects and not _skills_first(aspects[e.text])]
            more.sort(key=lambda e: (_KIND_RANK[e.kind], e.source, e.order))
        else:
            more = [e for e in more if e.kind == "section" or _DOES_RE.search(e.text)]
        does_pick += more[: MAX_DOES - len(does_pick)]
        used.update(e.text for e in does_pick)

    # 5. What keeps human value: verbatim clauses from the role's own sentences.
    human: list[tuple[Evidence, str]] = []
    for e in _unique(own + [x for x in extra if role.outlook in ("at risk", "reshaped")]):
        for clause in human_value_clauses(e.text):
            if clause not in used and all(clause != q for _, q in human):
                human.append((e, clause))
    human = human[:2]

    sections: list[CardSection] = []
    does_lines = [CardLine(_flat(e.text), [cite(e)]) for e in does_pick] or [CardLine(lab["no_does"])]
    sections.append(CardSection("does", lab["does"], does_lines))
    skill_lines = [CardLine(_flat(e.text), [cite(e)]) for e in skills_pick] or [CardLine(lab["no_skills"])]
    sections.append(CardSection("skills", lab["skills"], skill_lines))
    out_lines = [CardLine(_flat(e.text), [cite(e)]) for e in outlook_pick]
    if not out_lines:
        out_lines = [CardLine(lab["no_outlook"])]
    elif role.outlook != "unclear":  # a stated outlook with no direction word is quoted with no summary
        tag = tag_text(role.outlook, lang)
        out_lines.insert(0, CardLine(lab["summary"].format(tag=tag if lang == "zh" else tag.upper()),
                                     sorted({n for ln in out_lines for n in ln.citations})))
    sections.append(CardSection("outlook", f"{lab['outlook']}: {tag_text(role.outlook, lang)}", out_lines))
    if human:
        sections.append(CardSection("human", lab["human"], [CardLine(_fragment(e.text, q), [cite(e, q)])
                                                            for e, q in human]))
    related = [cat.by_key[k].name for k in role.related if k in cat.by_key][:MAX_RELATED]
    title = f"{role.name}（{role.zh}）" if lang == "zh" and role.zh else role.name
    return RoleCard(role.key, title, role.name, role.zh, shown_aliases(role), role.outlook, sections, related,
                    citations, "extractive", lang)


_LLM_LINE_RE = re.compile(r"^\s*\**(DOES|SKILLS|OUTLOOK|HUMAN)\**\s*[:：]\s*(.*)$", re.I)
MAX_PASSAGES = 10


def role_passages(role: Role, extra: list[Evidence]) -> list[Passage]:
    """The role's evidence grouped by chunk, as passages for the LLM and the citation check."""
    groups: dict[str, list[Evidence]] = {}
    for e in sorted(role.evidence, key=lambda e: (_KIND_RANK[e.kind], e.source, e.order)) + extra:
        groups.setdefault(e.chunk_id, []).append(e)
    out = []
    for cid, evs in list(groups.items())[:MAX_PASSAGES]:
        evs = sorted(_unique(evs), key=lambda e: e.order)
        first = evs[0]
        out.append(Passage(cid, first.source, first.title, first.url, "\n".join(e.text for e in evs), 0.0, None, 0.0,
                           first.heading))
    return out


_ANAPHOR_RE = re.compile(r"(these|this|they|those|such|it)\b|(这些|这|它们|他们)", re.I)
# Offline fallback only (without the embedder): generic verbs of doing the work.
_DOES_RE = re.compile(
    r"\b(?:design|build|develop|implement|maintain|own|run|use|uses|conduct|create|analy[sz]e|deploy|manage|"
    r"lead|work(?:s|ing)? (?:on|with)|responsible for)\w*|负责|开发|设计|实现|研究",
    re.I,
)


def _fragment(sentence: str, clause: str) -> str:
    """A clause shown as the quote it is: “…clause” when it does not open the sentence."""
    lead = "" if sentence.startswith(clause) else "…"
    tail = "" if sentence.rstrip().endswith(clause.rstrip()) else "…"
    return f"“{lead}{clause}{tail}”"


SKILLS_MARGIN = 0.03  # a sentence reads as "skills" when that query beats "what does it do" by this much


def _skills_first(scores: tuple[float, float]) -> bool:
    does, skills = scores
    return skills - does >= SKILLS_MARGIN


def _flat(text: str) -> str:
    """A quote as one line for display (a wrapped source line keeps its newline in the citation)."""
    return " ".join(text.split())


def _useful(text: str) -> bool:
    """Skip headings, list stubs and one-word lines."""
    if text.lstrip().startswith("#"):
        return False
    if has_cjk(text):
        return len(CJK_RE.findall(text)) >= 10
    return len(text.split()) >= 7


def _unique(items: list[Evidence]) -> list[Evidence]:
    seen: set[str] = set()
    out = []
    for e in items:
        if e.text not in seen:
            seen.add(e.text)
            out.append(e)
    return out
