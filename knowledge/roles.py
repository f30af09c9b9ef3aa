"""The role catalog: which jobs the knowledge base speaks about, and how people ask for them.

Roles come from the stored chunks, not from a list in code: a markdown heading under a
jobs section ("## Jobs at Risk…" → "### Translators and Interpreters"), a definition
line ("Machine Learning Engineer: These professionals design…"), or a mention of a name
or alias from the small curated file ``data/role_aliases.yaml`` (which also supplies the
Chinese names and the aliases people type). Each role keeps the verbatim sentences that
speak about it (its *evidence*), an outlook tag read from those sentences, and related
roles. ``RoleCatalog.match`` resolves what a user typed: exact name, alias, Chinese
alias, fuzzy (typos, abbreviations), then free text against the role evidence.

The catalog is cached per store version, so `careerbot ingest` of a document that
defines a new role makes it appear without a restart.
"""

from __future__ import annotations

import difflib
import math
import re
import threading
import weakref
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any, Literal, Protocol

import yaml

from .text import has_cjk, split_sentences, tokenize

Outlook = Literal["growing", "reshaped", "at risk", "unclear"]
MatchKind = Literal["exact", "alias", "fuzzy", "free text"]
EvidenceKind = Literal["definition", "section", "context", "mention", "topic", "field"]

# A parent heading that introduces a list of jobs.
_JOBS_HEADING_RE = re.compile(
    r"\b(jobs?|roles?|careers?|career paths?|positions?|occupations?|professions?|professionals)\b|"
    r"岗位|职位|职业",
    re.I,
)
# Last word of a role name (English): agent nouns.
_ROLE_NOUN_RE = re.compile(
    r"(eer|er|or|ist|ian|yst|ect|ant|ent|ive|ee|ers|ors|ists|ians|ysts|ects|ants|ents|ives|ees)$", re.I
)
_NOT_ROLE_WORDS = frozenset(
    "answer other paper chapter number order error matter letter center cluster filter layer later "
    "summary content context network user customer computer transformer encoder decoder vector tensor "
    "parameter developer? whatever however together never ever under after over power water".split()
)
_PERSON_CUE_RE = re.compile(
    r"\b(these professionals|professionals|they|who|people|experts|specialists|individuals|practitioners)\b", re.I
)
_DEF_LINE_RE = re.compile(
    r"^\s*(?:[-*•]\s*)?(?:\*\*)?(?P<name>[A-Z][A-Za-z0-9&/+\-' ]{1,60}?)(?:\*\*)?\s*[:：]\s*(?:\*\*)?\s*(?P<body>\S.*)$"
)
_ZH_DEF_LINE_RE = re.compile(
    r"^\s*(?:[-*•]\s*)?(?P<name>[\u4e00-\u9fffA-Za-z]{2,16}?(?:工程师|科学家|专家|分析师|研究员|律师|设计师|产品经理|顾问|架构师))"
    r"\s*[:：]\s*(?P<body>\S.*)$"
)
_HEADING_RE = re.compile(r"^(#{1,6})\s*(.+?)\s*#*\s*$")
_CONNECTIVE_RE = re.compile(
    r"^(therefore|thus|hence|so|this|these|as a result|consequently|that|such)\b|^(所以|因此|因而|于是|这)", re.I
)
_CONTINUATION_RE = re.compile(
    r"^(these (positions|roles|professionals|jobs)|they|such roles|这些岗位|这类岗位)\b", re.I
)

# Outlook cues, read from the sentences about a role (and the heading above them).
_RISK_RE = re.compile(
    r"at risk|\brisks?\b|threat|disrupt|replac|automat(?:e|ing) away|job losses|decline|shrink|fewer|"
    r"萎靡|见顶|缩招|不继续招|需求已经不多|平薪|没什么涨幅|取代|失业",
    re.I,
)
_GROWTH_RE = re.compile(
    r"growing|growth|increased demand|in high demand|high demand|demand for|sought after|shortage|supercharg|"
    r"increasingly important|will likely emerge|new wave|lucrative|excellent job prospects|will be vital|"
    r"疯狂招人|需求暴增|大量|火热|机会|新需求|风口",
    re.I,
)
_RESHAPE_RE = re.compile(
    r"reshap|transform|collaborat|integrat|new avenues|adapt|shift|enhanc|转行|转型", re.I
)
_SKILL_RE = re.compile(
    r"\bskills?\b|skilled|expertise|knowledge of|foundation in|proficien|understanding of|understand the|"
    r"require[sd]?\b|\babilit(y|ies)|need to know|familiar|literacy|\bcan effectively\b|"
    r"技能|能力|掌握|需要会|基础|门槛",
    re.I,
)

_STRONG_SKILL_RE = re.compile(
    r"foundation in|knowledge of|expertise in|you will need|essential|proficien|skilled at|problem-solving|"
    r"understanding of|understand the|technical expertise|\bcan effectively\b|literacy|掌握|技能|需要会",
    re.I,
)
_HUMAN_VALUE_RE = re.compile(
    r"cannot yet match|human (judg|writers|educators|touch|oversight)|cultural context|nuanced|empathy|"
    r"creativity and depth|critical thinking|personalized guidance|providing context|人情|创造力|同理心|判断力",
    re.I,
)
_CLAUSE_SPLIT_RE = re.compile(
    r",\s*(?=(?:especially|but|while|although|though|yet|whereas|except|unless)\b)|(?<=[，；;])|(?<=—)", re.I
)
_PLURAL_EXCEPTIONS = {"analysis": "analysis", "ethics": "ethics", "sales": "sales", "news": "news"}


class ChunkLike(Protocol):
    id: str
    text: str
    metadata: dict[str, Any]


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
    related: list[str] = field(default_factory=list)  # keys of related roles

    @property
    def sources(self) -> list[str]:
        return sorted({e.source for e in self.evidence})

    def terms(self) -> list[str]:
        """Everything a user may type for this role."""
        out = [self.name, *self.aliases]
        if self.zh:
            out.append(self.zh)
        return _dedupe(out)

    def text_terms(self) -> list[str]:
        """Phrases that mark a document sentence as being about this role."""
        out = []
        for t in [self.name, *self.aliases, *self.mentions]:
            if has_cjk(t) and len(t) >= 2 or (not has_cjk(t) and len(t) >= 4 and "/" not in t):
                out.append(t)
        return _dedupe(out)

    def profile(self) -> str:
        """Name, aliases and evidence in one text: what free-text queries are compared with."""
        return " ".join([*self.terms(), *(e.text for e in self.evidence)])


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


def singular(word: str) -> str:
    w = word.lower()
    if w in _PLURAL_EXCEPTIONS or len(w) <= 3 or not w.isalpha():
        return word
    if w.endswith("ies"):
        return word[:-3] + "y"
    if w.endswith(("sses", "ches", "shes", "xes")):
        return word[:-2]
    if w.endswith("s") and not w.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def normalize(text: str) -> str:
    """Lowercase, punctuation to spaces, plural last word made singular, role/job suffix dropped."""
    t = text.lower().strip()
    t = re.sub(r"[\"'“”‘’`*_()\[\]{}?？!！。,，:：;；]|(?<=[a-z])-(?=[a-z])", " ", t)
    t = re.sub(r"\s*[/&]\s*", " / ", t)
    t = re.sub(r"\s+", " ", t).strip()
    t = re.sub(r"^(an?|the)\s+", "", t)
    t = re.sub(r"\s+(role|roles|job|jobs|position|career)$", "", t)
    t = re.sub(r"(岗位|职位|岗|这个职业|这个工作)$", "", t) if has_cjk(t) and len(t) > 3 else t
    words = t.split(" ")
    if words and words[-1]:
        words[-1] = singular(words[-1])
    return " ".join(w for w in words if w)


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


def slug(name: str) -> str:
    s = re.sub(r"[^a-z0-9\u4e00-\u9fff]+", "-", name.lower()).strip("-")
    return s or "role"


def _dedupe(items: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for i in items:
        k = i.strip().lower()
        if k and k not in seen:
            seen.add(k)
            out.append(i.strip())
    return out


def _find_term(term: str, text: str) -> bool:
    if has_cjk(term):
        return term in text
    pattern = r"(?<![A-Za-z])" + re.escape(term) + r"(?:s|es)?(?![A-Za-z])"
    return re.search(pattern, text, re.I) is not None


# --- curated aliases ----------------------------------------------------------

@dataclass(frozen=True)
class CuratedRole:
    name: str
    zh: str | None
    aliases: tuple[str, ...]
    mentions: tuple[str, ...]
    topics: tuple[str, ...]


@lru_cache(maxsize=1)
def curated_roles() -> tuple[CuratedRole, ...]:
    """The packaged alias file (knowledge/data/role_aliases.yaml)."""
    raw = resources.files("knowledge").joinpath("data/role_aliases.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(raw) or {}
    out = []
    for item in data.get("roles", []):
        out.append(
            CuratedRole(
                name=str(item["name"]),
                zh=str(item["zh"]) if item.get("zh") else None,
                aliases=tuple(str(a) for a in item.get("aliases") or []),
                mentions=tuple(str(a) for a in item.get("mentions") or []),
                topics=tuple(str(a) for a in item.get("topics") or []),
            )
        )
    return tuple(out)


# --- building -----------------------------------------------------------------

@dataclass
class _Sentence:
    source: str
    title: str
    url: str | None
    chunk_id: str
    position: int
    order: int
    text: str
    line: str
    heading: str
    parent: str
    first_in_line: bool


@dataclass
class _Candidate:
    name: str  # as written in the document
    parts: list[str]  # names split on "and" / "/"
    sentences: list[_Sentence]
    kind: EvidenceKind
    context: list[_Sentence] = field(default_factory=list)


def _doc_sentences(chunks: Sequence[ChunkLike]) -> tuple[list[_Sentence], list[_Candidate]]:
    """Walk each document's chunks in reading order: sentences with their section, and role candidates."""
    by_source: dict[str, list[ChunkLike]] = defaultdict(list)
    for c in chunks:
        by_source[str(c.metadata.get("source", ""))].append(c)
    sentences: list[_Sentence] = []
    candidates: list[_Candidate] = []
    for source, cs in sorted(by_source.items()):
        cs.sort(key=lambda c: int(c.metadata.get("position", 0)))
        stack: list[tuple[int, str]] = []
        section_cands: dict[str, _Candidate] = {}
        intro: dict[str, list[_Sentence]] = defaultdict(list)
        order = 0
        for c in cs:
            m = c.metadata
            title = str(m.get("title", ""))
            url = str(m.get("url") or "") or None
            if not stack and m.get("heading"):
                stack = [(2, str(m.get("heading")))]  # chunk starts mid-section: trust its metadata
            for line in c.text.split("\n"):
                s = line.strip()
                if not s:
                    continue
                h = _HEADING_RE.match(s)
                if h:
                    level, text = len(h.group(1)), h.group(2).strip()
                    while stack and stack[-1][0] >= level:
                        stack.pop()
                    parent = stack[-1][1] if stack else ""
                    stack.append((level, text))
                    under_jobs = bool(parent) and _JOBS_HEADING_RE.search(parent) is not None
                    # A chunk keeps only its nearest heading, so the jobs heading above may be lost;
                    # then the heading itself must read like a role ("Quantum Prompt Whisperers").
                    if _looks_like_role_heading(text) and (under_jobs or _role_named_heading(text)):
                        why = [x for x in intro[parent] if _substantial(x.text)][:2]
                        cand = _Candidate(text, _split_parts(text), [], "section", context=why)
                        section_cands[text] = cand
                        candidates.append(cand)
                    continue
                heading = stack[-1][1] if stack else ""
                parent = stack[-2][1] if len(stack) > 1 else ""
                line_sents = split_sentences(s)
                for i, sent in enumerate(line_sents):
                    order += 1
                    se = _Sentence(source, title, url, c.id, int(m.get("position", 0)), order, sent, s, heading,
                                   parent, i == 0)
                    sentences.append(se)
                    if heading in section_cands:
                        section_cands[heading].sentences.append(se)
                    elif heading:
                        intro[heading].append(se)
                d = _definition(s)
                if d and line_sents:
                    name, _ = d
                    candidates.append(_Candidate(name, _split_parts(name), [x for x in sentences[-len(line_sents):]],
                                                 "definition"))
    return sentences, candidates


def _looks_like_role_heading(text: str) -> bool:
    """A short name-like heading (under a jobs heading, which the caller checked)."""
    if has_cjk(text):
        return len(text) <= 16 and not re.search(r"[。！？，]", text)
    words = re.findall(r"[A-Za-z][A-Za-z\-']*", text)
    return 0 < len(words) <= 8 and not re.search(r"[.!?:]$", text.strip())


def _role_named_heading(text: str) -> bool:
    """'Quantum Prompt Whisperers', 'Data Scientists and AI Specialists': ends in a plural agent noun."""
    if has_cjk(text):
        return bool(re.search(r"(工程师|科学家|专家|分析师|研究员|律师|设计师|顾问)$", text.strip()))
    words = re.findall(r"[A-Za-z][A-Za-z\-']*", text)
    if not words or len(words) > 6 or not all(w[:1].isupper() or w.lower() in ("and", "of", "for") for w in words):
        return False
    last = words[-1].lower()
    return last.endswith("s") and bool(_ROLE_NOUN_RE.search(last[:-1])) and singular(last) not in _NOT_ROLE_WORDS


def _definition(line: str) -> tuple[str, str] | None:
    """'Foo Engineer: These professionals …' → ('Foo Engineer', body), else None."""
    m = _DEF_LINE_RE.match(line)
    if m:
        name, body = m.group("name").strip(), m.group("body")
        words = name.split()
        if not 1 <= len(words) <= 6 or not all(w[:1].isupper() or w.lower() in ("and", "of", "for", "&")
                                                for w in words):
            return None
        last = singular(words[-1]).lower()
        if not _ROLE_NOUN_RE.search(last) or last in _NOT_ROLE_WORDS:
            return None
        if _PERSON_CUE_RE.search(body) or _find_term(name, body):
            return name, body
        return None
    m = _ZH_DEF_LINE_RE.match(line)
    if m:
        return m.group("name"), m.group("body")
    return None


def _split_parts(name: str) -> list[str]:
    parts = re.split(r"\s+(?:and|&|or)\s+|\s*/\s*|、|和|与", name)
    return [p.strip() for p in parts if p.strip()]


def _display_name(name: str) -> str:
    """'Quantum Prompt Whisperers' → 'Quantum Prompt Whisperer'; 'A and B' → 'A / B'."""
    parts = _split_parts(name)
    out = []
    for p in parts:
        words = p.split()
        if words and not has_cjk(words[-1]):
            words[-1] = singular(words[-1])
        out.append(" ".join(words))
    return " / ".join(out)


def build_catalog(chunks: Sequence[ChunkLike], curated: Sequence[CuratedRole] | None = None,
                  version: str = "") -> RoleCatalog:
    """Derive the role catalog from stored chunks plus the curated alias file."""
    curated = curated_roles() if curated is None else curated
    sentences, candidates = _doc_sentences(chunks)
    roles: dict[str, Role] = {}
    index: dict[str, str] = {}  # normalized term -> role key
    for cr in curated:
        r = Role(slug(cr.name), cr.name, cr.zh, list(cr.aliases), list(cr.mentions), list(cr.topics), curated=True)
        roles[r.key] = r
        for t in r.terms():
            index.setdefault(normalize(t), r.key)

    def resolve(part: str) -> str | None:
        n = normalize(part)
        if n in index:
            return index[n]
        # "Personalized Educators" → the longest known term inside it.
        best: tuple[int, str] | None = None
        for term, key in index.items():
            if len(term) >= 4 and re.search(r"(?<![a-z])" + re.escape(term) + r"(?![a-z])", n):
                if best is None or len(term) > best[0]:
                    best = (len(term), key)
        return best[1] if best else None

    evidence: dict[str, dict[tuple[str, int], Evidence]] = defaultdict(dict)

    def add(key: str, s: _Sentence, kind: EvidenceKind) -> None:
        k = (s.source, s.order)
        prev = evidence[key].get(k)
        rank = ("definition", "section", "mention", "context", "topic", "field")
        if prev is None or rank.index(kind) < rank.index(prev.kind):
            evidence[key][k] = Evidence(s.source, s.title, s.url, s.text, s.chunk_id, s.position, s.order, kind,
                                        s.heading, s.parent)

    for cand in candidates:
        keys = [resolve(p) for p in cand.parts]
        whole = resolve(cand.name) if len(cand.parts) > 1 else None
        if whole and all(k is None or k == whole for k in keys):
            keys = [whole]
        if any(k is None for k in keys):
            # A role no alias knows: the document defines it; name it after the document.
            name = _display_name(cand.name)
            key = slug(name)
            if key not in roles:
                aliases = _dedupe([cand.name, *cand.parts, *(_display_name(p) for p in cand.parts)])
                roles[key] = Role(key, name, None, [a for a in aliases if normalize(a) != normalize(name)])
                for t in roles[key].terms():
                    index.setdefault(normalize(t), key)
            keys = [key]
        for key in {k for k in keys if k}:
            for s in cand.sentences:
                add(key, s, cand.kind)
            for s in cand.context:
                add(key, s, "context")

    # Mentions anywhere, plus the sentence before ("Therefore …") or after ("These positions …").
    by_pos = {(s.source, s.order): s for s in sentences}
    role_terms = {key: r.text_terms() for key, r in roles.items()}
    for s in sentences:
        for key, terms in role_terms.items():
            if any(_find_term(t, s.text) for t in terms):
                add(key, s, "mention")
                prev = by_pos.get((s.source, s.order - 1))
                if prev and _CONNECTIVE_RE.search(s.text) and prev.line == s.line:
                    add(key, prev, "context")
                nxt = by_pos.get((s.source, s.order + 1))
                if nxt and _CONTINUATION_RE.search(nxt.text):
                    add(key, nxt, "context")
    # A document that lists career paths ("Research Scientist: …") says how the field is doing and
    # what it takes; those sentences speak for every role it defines.
    defined_in: dict[str, set[str]] = defaultdict(set)
    owned = {(x.source, x.order) for cand in candidates if cand.kind == "section" for x in cand.sentences}
    for cand in candidates:
        if cand.kind == "definition":
            for k in {resolve(p) for p in cand.parts} | {resolve(cand.name), slug(_display_name(cand.name))}:
                if k in roles:
                    defined_in[k].add(cand.sentences[0].source)
    for key, docs in defined_in.items():
        for s in sentences:
            if s.source in docs and (s.source, s.order) not in owned and _substantial(s.text) and (
                any(outlook_cues(s.text).values()) or is_skill_sentence(s.text)
            ):
                add(key, s, "field")
    for key, r in roles.items():
        if not r.topics or not evidence.get(key):
            continue
        docs = {e.source for e in evidence[key].values()}
        for s in sentences:
            if s.source in docs and any(_find_term(t, s.text) for t in r.topics):
                add(key, s, "topic")

    out: list[Role] = []
    for key, r in roles.items():
        ev = sorted(evidence.get(key, {}).values(), key=lambda e: (e.source, e.order))
        if not ev:
            continue  # the knowledge base does not speak about it
        r.evidence = ev
        r.outlook, r.outlook_scores = _outlook(ev)
        out.append(r)
    _relate(out)
    out.sort(key=lambda r: (_OUTLOOK_ORDER[r.outlook], r.name.lower()))
    return RoleCatalog(out, version)


def _substantial(text: str) -> bool:
    """Long enough to say something: 8+ words, or 12+ Chinese characters."""
    if has_cjk(text):
        return len(re.findall(r"[\u4e00-\u9fff]", text)) >= 12
    return len(text.split()) >= 8


_OUTLOOK_ORDER = {"growing": 0, "reshaped": 1, "at risk": 2, "unclear": 3}
_KIND_WEIGHT = {"definition": 1.0, "section": 1.5, "context": 1.0, "mention": 1.0, "topic": 0.6, "field": 0.5}


def outlook_cues(text: str) -> dict[str, int]:
    return {
        "at risk": len(_RISK_RE.findall(text)),
        "growing": len(_GROWTH_RE.findall(text)),
        "reshaped": len(_RESHAPE_RE.findall(text)),
    }


def is_skill_sentence(text: str) -> bool:
    return _SKILL_RE.search(text) is not None


def skill_strength(text: str) -> int:
    """How concretely a sentence names skills: 'a strong foundation in mathematics' beats 'the right skills'."""
    return 2 * len(_STRONG_SKILL_RE.findall(text)) + (1 if is_skill_sentence(text) else 0)


def human_value_clauses(text: str) -> list[str]:
    """Verbatim clauses that say what keeps people valuable ('… that require cultural context …')."""
    if not _HUMAN_VALUE_RE.search(text):
        return []
    parts = [p.strip() for p in _CLAUSE_SPLIT_RE.split(text) if p and p.strip()]
    if parts and re.match(r"(while|although|though|whereas)\b", parts[0], re.I) and "," in parts[0]:
        head, tail = parts[0].split(",", 1)
        parts[0:1] = [head, tail.strip()]
    out = [p.rstrip(",，;；—") for p in parts if _HUMAN_VALUE_RE.search(p)]
    return [p for p in out if p in text]


def _outlook(ev: Sequence[Evidence]) -> tuple[Outlook, dict[str, float]]:
    """Tally outlook cues in the role's sentences; a jobs heading above them counts most."""
    scores = {"at risk": 0.0, "growing": 0.0, "reshaped": 0.0}
    parents: set[str] = set()
    for e in ev:
        w = _KIND_WEIGHT[e.kind]
        for cue, n in outlook_cues(e.text).items():
            scores[cue] += w * min(n, 2)
        if e.kind in ("section", "context") and e.parent:
            parents.add(e.parent)
    for p in parents:
        for cue, n in outlook_cues(p).items():
            if n:
                scores[cue] += 3.0
        if re.search(r"supercharg|boost|opportunit|emerging|new jobs|创造", p, re.I):
            scores["growing"] += 3.0
    risk, grow, reshape = scores["at risk"], scores["growing"], scores["reshaped"]
    if max(risk, grow, reshape) < 1:
        tag: Outlook = "unclear"
    elif reshape > max(risk, grow) or (risk and grow and min(risk, grow) >= 0.6 * max(risk, grow)):
        tag = "reshaped"
    elif risk > grow:
        tag = "at risk"
    else:
        tag = "growing"
    return tag, {k: round(v, 2) for k, v in scores.items()}


def _relate(roles: list[Role], n: int = 4) -> None:
    """Related roles: same sentence, same jobs section, same chunk; the same document only to fill up."""
    strong: dict[tuple[str, str], float] = defaultdict(float)
    same_doc: dict[tuple[str, str], int] = defaultdict(int)

    def facets(r: Role) -> tuple[set[Any], set[str], set[Any], set[str]]:
        return (
            {(e.source, e.order) for e in r.evidence},
            {e.chunk_id for e in r.evidence if e.kind != "topic"},
            {(e.source, e.parent) for e in r.evidence if e.kind == "section" and e.parent},
            {e.source for e in r.evidence if e.kind not in ("topic", "field")},
        )

    f = {r.key: facets(r) for r in roles}
    for a in roles:
        a_sent, a_chunks, a_parents, a_docs = f[a.key]
        for b in roles:
            if a is b:
                continue
            b_sent, b_chunks, b_parents, b_docs = f[b.key]
            w = 3.0 * len(a_sent & b_sent) + 1.0 * len(a_chunks & b_chunks) + 2.0 * len(a_parents & b_parents)
            if w:
                strong[(a.key, b.key)] = w
            if a_docs & b_docs:
                same_doc[(a.key, b.key)] = len(a_docs & b_docs)
    for a in roles:
        ranked = sorted(((w, b) for (x, b), w in strong.items() if x == a.key), key=lambda wb: (-wb[0], wb[1]))
        related = [b for _, b in ranked[:n]]
        if len(related) < 2:
            extra = sorted(((w, b) for (x, b), w in same_doc.items() if x == a.key and b not in related),
                           key=lambda wb: (-wb[0], wb[1]))
            related += [b for _, b in extra[: 3 - len(related)]]
        a.related = related


# --- cache --------------------------------------------------------------------

_cache: weakref.WeakKeyDictionary[Any, RoleCatalog] = weakref.WeakKeyDictionary()
_cache_lock = threading.Lock()


def catalog_for(kb: Any) -> RoleCatalog:
    """The catalog of a KnowledgeBase, rebuilt only when its store version changes."""
    version = str(kb.store.version())
    with _cache_lock:
        cached = _cache.get(kb)
        if cached is not None and cached.version == version:
            return cached
    if version == "empty":
        catalog = RoleCatalog([], version)
    else:
        kb.retriever.invalidate()  # make sure the chunks we read are the ones of this version
        catalog = build_catalog(kb.retriever.chunks, version=version)
    with _cache_lock:
        _cache[kb] = catalog
    return catalog
