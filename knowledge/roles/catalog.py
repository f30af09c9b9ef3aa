"""The role catalog: roles, the sentences that speak about them, and matching what a user typed.

``RoleCatalog.match`` resolves what a user typed: exact name, alias, Chinese alias, fuzzy (typos,
abbreviations), then free text against the role evidence; ``suggest`` gives the closest roles when
nothing fits. How roles are found in documents is ``knowledge.roles.extract``.
"""

from __future__ import annotations

import difflib
import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Literal

from ..text import has_cjk, tokenize
from .names import dedupe, normalize

Outlook = Literal["growing", "reshaped", "at risk", "unclear"]
MatchKind = Literal["exact", "alias", "fuzzy", "free text"]
EvidenceKind = Literal["definition", "section", "context", "mention", "topic"]


@dataclass(frozen=True)
class Evidence:
    """One verbatim sentence of a document that speaks about a role."""

    source: str
    title: str
    url: str | None
    text: str  # verbatim in the document
    chunk_id: str
    position: int  # chunk position, then sentence order, for reading order
    order: int
    kind: EvidenceKind
    heading: str = ""  # the section it sits in
    parent: str = ""  # the section above it (e.g. "Jobs at Risk Due to the Rise of LLMs")
    location: str | None = None  # where a citation points (section path, or a page)


@dataclass
class Role:
    key: str
    name: str
    zh: str | None = None
    aliases: list[str] = field(default_factory=list)
    mentions: list[str] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    curated: bool = False
    evidence: list[Evidence] = field(default_factory=list)
    outlook: Outlook = "unclear"
    outlook_scores: dict[str, float] = field(default_factory=dict)
    outlook_orders: list[tuple[str, int]] = field(default_factory=list)  # (source, order) of outlook lines, best first
    related: list[str] = field(default_factory=list)  # keys of related roles

    @property
    def sources(self) -> list[str]:
        return sorted({e.source for e in self.evidence})

    def terms(self) -> list[str]:
        """Everything a user may type for this role."""
        out = [self.name, *self.aliases]
        if self.zh:
            out.append(self.zh)
        return dedupe(out)

    def text_terms(self) -> list[str]:
        """Phrases that mark a document sentence as being about this role."""
        out = []
        for t in [self.name, *self.aliases, *self.mentions]:
            if has_cjk(t) and len(t) >= 2 or (not has_cjk(t) and len(t) >= 4 and "/" not in t):
                out.append(t)
        return dedupe(out)

    def profile(self) -> str:
        """Name, aliases and evidence in one text: what free-text queries are compared with."""
        return " ".join([*self.terms(), *(e.text for e in self.evidence)])

    def outlook_evidence(self) -> list[Evidence]:
        """The sentences that state this role's outlook (what the card's outlook lines quote), the one
        that best answers how the role is doing first."""
        by_key = {(e.source, e.order): e for e in self.evidence}
        return [by_key[k] for k in self.outlook_orders if k in by_key]


@dataclass(frozen=True)
class RoleMatch:
    role: Role
    kind: MatchKind
    score: float  # 1.0 for exact/alias; similarity otherwise


@dataclass
class RoleCatalog:
    roles: list[Role]
    version: str = ""

    def __post_init__(self) -> None:
        self.by_key = {r.key: r for r in self.roles}
        self._alias: dict[str, Role] = {}
        for r in self.roles:
            for t in r.terms():
                self._alias.setdefault(normalize(t), r)
        self._profiles: list[Counter[str]] | None = None
        self._df: Counter[str] | None = None

    def __len__(self) -> int:
        return len(self.roles)

    def get(self, key: str) -> Role | None:
        return self.by_key.get(key)

    # -- matching ----------------------------------------------------------------
    def match(self, query: str) -> RoleMatch | None:
        """Exact name, alias, Chinese alias, fuzzy, then free text; None when nothing fits well."""
        q = normalize(_strip_question(query))
        if not q or not self.roles:
            return None
        for r in self.roles:
            if q == normalize(r.name) or (r.zh and q == normalize(r.zh)):
                return RoleMatch(r, "exact", 1.0)
        if q in self._alias:
            return RoleMatch(self._alias[q], "alias", 1.0)
        if has_cjk(q):
            hit = self._cjk_alias(q)
            if hit:
                return RoleMatch(hit, "alias", 1.0)
        inside = self._alias_inside(q)
        if inside:
            return RoleMatch(inside, "alias", 1.0)
        ranked = self.fuzzy_scores(q)
        if ranked:
            (best, score), second = ranked[0], (ranked[1] if len(ranked) > 1 else (None, 0.0))
            if score >= 0.8 and (second[0] is None or score - second[1] >= 0.03):
                return RoleMatch(best, "fuzzy", round(score, 3))
        free = self.free_text_scores(query)
        if free:
            (best, score), second = free[0], (free[1] if len(free) > 1 else (None, 0.0))
            if score >= 0.34 and score >= 1.3 * second[1]:
                return RoleMatch(best, "free text", round(score, 3))
        return None

    def suggest(self, query: str, n: int = 3) -> list[Role]:
        """The closest roles by any measure, for a 'did you mean' line."""
        q = normalize(_strip_question(query))
        scores: dict[str, float] = defaultdict(float)
        if q:
            for r, s in self.fuzzy_scores(q):
                if s >= 0.6:
                    scores[r.key] = max(scores[r.key], s)
            for r, s in self.free_text_scores(query):
                scores[r.key] = max(scores[r.key], s * 1.5)
        ranked = [self.by_key[k] for k, s in sorted(scores.items(), key=lambda kv: -kv[1]) if s >= 0.5]
        return ranked[:n]

    def _alias_inside(self, q: str) -> Role | None:
        """'is my job as a translator at risk' → the role whose longest name/alias occurs in the query."""
        hits: list[tuple[int, Role]] = []
        for term, r in self._alias.items():
            if len(term) >= 4 and not has_cjk(term) and re.search(
                r"(?<![a-z0-9])" + re.escape(term) + r"(?:s|es)?(?![a-z0-9])", q
            ):
                hits.append((len(term), r))
        if not hits:
            return None
        hits.sort(key=lambda h: -h[0])
        best_len, best = hits[0]
        if any(r is not best and n == best_len for n, r in hits[1:]):
            return None  # two roles named equally well: let the caller suggest both
        return best

    def _cjk_alias(self, q: str) -> Role | None:
        best: tuple[int, Role] | None = None
        for r in self.roles:
            for t in r.terms():
                nt = normalize(t)
                if not has_cjk(nt) or len(nt) < 2:
                    continue
                if nt in q or (q in nt and len(q) >= 2):
                    size = len(nt) if nt in q else len(q)
                    if best is None or size > best[0]:
                        best = (size, r)
        return best[1] if best else None

    def fuzzy_scores(self, q: str) -> list[tuple[Role, float]]:
        """Per role, the best typo/abbreviation similarity of q to any of its names (0..1), best first."""
        out: list[tuple[Role, float]] = []
        q_tokens = q.split()
        for r in self.roles:
            best = 0.0
            for t in r.terms():
                nt = normalize(t)
                if not nt:
                    continue
                best = max(best, difflib.SequenceMatcher(None, q, nt).ratio(), _token_similarity(q_tokens, nt.split()))
            out.append((r, best))
        out.sort(key=lambda rs: -rs[1])
        return out

    def free_text_scores(self, query: str) -> list[tuple[Role, float]]:
        """IDF-weighted share of the query's words found in each role's name, aliases and evidence."""
        tokens = [t for t in tokenize(query) if t not in _GENERIC_TOKENS]
        if not tokens or not self.roles:
            return []
        profiles, df = self._profile_index()
        n = len(self.roles)
        idf = {t: math.log(1 + (n + 0.5) / (df.get(t, 0) + 0.5)) for t in set(tokens)}
        total = sum(idf[t] for t in set(tokens))
        out = []
        for r, prof in zip(self.roles, profiles, strict=True):
            got = 0.0
            for t in set(tokens):
                if t in prof:
                    got += idf[t]
                elif len(t) >= 5 and any(len(p) >= 5 and p[:5] == t[:5] for p in prof):
                    got += 0.7 * idf[t]
            if got:
                out.append((r, got / total))
        out.sort(key=lambda rs: -rs[1])
        return out

    def _profile_index(self) -> tuple[list[Counter[str]], Counter[str]]:
        if self._profiles is None:
            self._profiles = [Counter(tokenize(r.profile())) for r in self.roles]
            df: Counter[str] = Counter()
            for p in self._profiles:
                df.update(set(p))
            self._df = df
        assert self._df is not None
        return self._profiles, self._df


_GENERIC_TOKENS = frozenset(
    {"someone", "person", "people", "job", "role", "work", "career", "doe", "does", "who", "whose", "somebody",
     "profession", "position", "工作", "岗位", "职业", "人", "做", "的人"}
)


# --- normalisation and similarity ---------------------------------------------

_QUESTION_RE = re.compile(
    r"^(what|who|how)\s+(does|do|is|are)\s+(an?\s+|the\s+)?|^(tell me about|describe|explain)\s+(an?\s+|the\s+)?|"
    r"\s+(do|does)\??$|\?$",
    re.I,
)


def _strip_question(query: str) -> str:
    q = query.strip()
    for _ in range(3):
        q2 = _QUESTION_RE.sub("", q).strip()
        if q2 == q:
            break
        q = q2
    return q


def _token_similarity(q: list[str], term: list[str]) -> float:
    """Average best match of query tokens (prefix or near-spelling), weighted by term coverage."""
    if not q or not term:
        return 0.0
    total = 0.0
    used: set[int] = set()
    for qt in q:
        best, best_i = 0.0, -1
        for i, tt in enumerate(term):
            if qt == tt:
                s = 1.0
            elif len(qt) >= 2 and tt.startswith(qt):
                s = 0.9
            else:
                r = difflib.SequenceMatcher(None, qt, tt).ratio()
                s = r if r >= 0.75 else 0.0
            if s > best:
                best, best_i = s, i
        total += best
        if best_i >= 0 and best > 0:
            used.add(best_i)
    avg = total / len(q)
    coverage = len(used) / len(term)
    return avg * (0.75 + 0.25 * coverage) if coverage >= 0.5 else avg * coverage


