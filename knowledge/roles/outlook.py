"""What the sentences about a role say: outlook statements, skills, what keeps human value.

Whether a sentence about a role states its outlook is read first by ``OutlookReader``: how much better
the sentence, with the role's names masked, answers a few outlook *questions* ("Is demand for this job
growing or shrinking?", "这个工作会被AI取代吗？") than the other questions a role's sentences answer (what
the job involves, what it needs, who it works with). That reading ranks a role's outlook sentences and
vetoes direction words used about something else; on its own it decides only for a sentence that names
the role and speaks of jobs or hiring (measured on the dev corpus, the bundled embedder alone also
picks sentences that compare where a role sits in different companies, with no outlook in them).

The direction words below (grow, fewer, replace, 萎缩, 扩招 …) give the tag. The embedder cannot: it
places a seed sentence saying that demand is flagging nearer "is demand growing?" than "is it shrinking?", and against
the direction words of the seeds, own and dev corpora its side is right about as often as chance. A
role whose outlook sentences carry no direction word is quoted with no tag ("unclear"). A sentence that
merely contains "threatened" somewhere in a document is not an outlook (see ``extract._outlooks``).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..text import has_cjk
from .catalog import Evidence, Outlook, Role
from .names import variants

Embed = Callable[[list[str]], Any]  # texts -> unit vectors, one row each

# What a reader asks about a role's prospects, and the other things a role's sentences answer. The role
# is "this job" / 这个岗位: sentences are read with the role's own names masked the same way, so the
# similarity is about what the sentence says, not about which role it names.
OUTLOOK_QUESTIONS = {
    "en": ("Is demand for this job growing or shrinking?",
           "Are companies hiring more of these people, or fewer?",
           "Will AI automate or replace this job?",
           "Will there be more or fewer of these jobs in a few years?",
           "Is it easy to find a job like this, or are openings scarce?"),
    "zh": ("这个岗位的需求是在增长还是在萎缩？", "公司招这个岗位的人是越来越多还是越来越少？",
           "这个工作会被AI自动化或取代吗？", "几年后这种岗位会更多还是更少？", "这种工作好找吗，岗位多不多？"),
}
OTHER_QUESTIONS = {
    "en": ("What does this person do at work?", "What skills, tools and degree does this job need?",
           "Who do these people work with?", "What is the interview for this job like?"),
    "zh": ("这个岗位平时做什么？", "这个岗位需要什么技能、工具和学历？", "这个岗位和谁一起工作？",
           "这个岗位的面试是什么样的？"),
}
_MASK = {"en": "this person", "zh": "这个岗位"}
# A sentence answers the outlook questions on its own (no direction word needed) this much better than
# the others; with a direction word, it only must not read as clearly answering another question.
STRONG = 0.08
STRONG_FLOOR = 0.15  # ... and is at least this close to an outlook question
WEAK = -0.10


class OutlookReader:
    """How well each sentence about a role answers "is demand for this role growing or shrinking, is it
    exposed to automation" rather than what the job is: mean of its two best cosines to the outlook
    questions minus the same for the other questions, in the sentence's language, role names masked."""

    def __init__(self, embed: Embed) -> None:
        self._embed = embed
        self._questions: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._vec: dict[str, np.ndarray] = {}
        self._cache: dict[str, tuple[float, float]] = {}

    def _qs(self, table: dict[str, Any], lang: str, store: dict[str, tuple[np.ndarray, np.ndarray]],
            ) -> tuple[np.ndarray, np.ndarray]:
        if lang not in store:
            a, b = table[lang]
            v = np.asarray(self._embed([*a, *b]), dtype=np.float32)
            store[lang] = (v[: len(a)], v[len(a):])
        return store[lang]

    def _vectors(self, masked: Sequence[str]) -> None:
        todo = list(dict.fromkeys(m for m in masked if m not in self._vec))
        if todo:
            for m, v in zip(todo, np.asarray(self._embed(todo), dtype=np.float32), strict=True):
                self._vec[m] = v

    def read(self, role: Role, texts: Sequence[str]) -> list[tuple[float, float]]:
        """(relevance, closeness) per text: relevance = outlook minus other; closeness = outlook alone."""
        masked = [mask_role(t, role) for t in texts]
        self._vectors(masked)
        for m in masked:
            if m not in self._cache:
                table = {k: (OUTLOOK_QUESTIONS[k], OTHER_QUESTIONS[k]) for k in OUTLOOK_QUESTIONS}
                out, other = self._qs(table, _lang(m), self._questions)
                v = self._vec[m]
                o = float(np.sort(out @ v)[-2:].mean())
                self._cache[m] = (round(o - float(np.sort(other @ v)[-2:].mean()), 4), round(o, 4))
        return [self._cache[m] for m in masked]


def _lang(text: str) -> str:
    return "zh" if has_cjk(text) else "en"


def names_role(role: Role, text: str) -> bool:
    """The sentence names the role (one of its names or aliases)."""
    return mask_role(text, role) != text


def mask_role(text: str, role: Role) -> str:
    """The sentence with the role's own names replaced by "this person" / 这个岗位."""
    terms = sorted({v for t in role.text_terms() for v in variants(t)}, key=len, reverse=True)
    for t in terms:
        if has_cjk(t):
            text = text.replace(t, _MASK["zh"])
        else:
            text = re.sub(r"(?<![A-Za-z])(?:(?:an?|the)\s+)?" + re.escape(t) + r"(?:s|es)?(?![A-Za-z])",
                          _MASK["en"], text, flags=re.I)
    return text

# Outlook cues, read from the sentences about a role (and the heading above them).
# General outlook vocabulary (English and Chinese), read only in a clause that is about jobs or the role.
_RISK_RE = re.compile(
    r"\bat risk\b|\brisks? of (?:being )?(?:replac|automat)|\bthreat(?:en)?s?\b|\bdisrupt\w*|"
    r"\breplac(?:e|ed|es|ing)\b|\bautomat(?:ed|ing) away\b|\bjob loss(?:es)?\b|\bdeclin(?:e|es|ed|ing)\b|"
    r"\bshrink\w*|\bfewer\b|\bobsolete\b|\bsaturat\w*|"
    r"\b(?:outlook|prospects?)\b[^.;]{0,30}\b(?:poor|weak|bleak|dim|gloomy|limited)\b|"
    r"供过于求|供大于求|竞争(?:很|非常|更加|越来越)?激烈|越来越少|没落|凉了|过时|不景气|下滑|"
    r"(?:岗位|机会|坑位?|[Hh][Cc])(?:很|非常|越来越)?少|"
    r"\b(?:few|a handful of|a small number of|limited) (?:openings|positions|jobs|roles|seats)\b|"
    r"萎靡|萎缩|见顶|缩招|裁员|取代|替代|失业|饱和|过剩|内卷|很卷|寒冬|劝退|难找|不好找|"
    r"需求(?:减少|下降|不多|已经不多|萎缩)",
    re.I,
)
_GROWTH_RE = re.compile(
    r"\bgrew\b|\bgrown\b|\bgrow(?:s|ing|th)\b|\brising\b|\brise in\b|\bbooming\b|\bscarce\b|\bshort supply\b|"
    r"\b(?:expect\w*|project\w*|forecast\w*|likely|set|continues?|continued|poised)\b[^.;]{0,60}?\bto "
    r"(?:grow|expand|increase|rise)\b|"
    r"\b(?:outlook|prospects?)\b[^.;]{0,30}\b(?:good|great|strong|bright|excellent|promising|positive|solid)\b|"
    r"\bhard to (?:hire|find|fill)\b|\bhottest\b|\bneed (?:many )?more\b|"
    r"(?:机会|岗位)(?:很|非常|越来越)?多|\bmore and more (?:companies|teams|employers|startups)\b|"
    r"\bdemand for\b|\bin (?:high |great |strong )?demand\b|\bincreas(?:ed|ing) demand\b|"
    r"\bsought[- ]after\b|\bshortage\b|\bwill be (?:vital|crucial|essential|in demand)\b|"
    r"\bincreasingly (?:important|valuable|needed)\b|\bemerg(?:e|es|ing)\b|\blucrative\b|"
    r"招人|缺人|紧缺|稀缺|缺口|抢手|吃香|有前途|前景光明|需求量?(?:很|非常)?大|越来越多的?(?:公司|企业|岗位)|供不应求|火热|火爆|很火|风口|红利|前景(?:好|不错|广阔|很好)|"
    r"旺盛|扩招|需求(?:增长|暴增|很大|大增)|大量(?:\S{0,6})?(?:人才|岗位)",
    re.I,
)
_RESHAPE_RE = re.compile(
    r"\breshap\w*|\btransform(?:s|ed|ing)?\b(?! *(?:er|ers)\b)|\bnew avenues\b|\bshift(?:s|ing)? (?:in|to|toward)|"
    r"\bevolv(?:e|es|ing) (?:role|job)|转型|重塑",
    re.I,
)
# What an outlook is about: jobs, hiring, the market, the people who do the work.
_JOBS_RE = re.compile(
    r"\b(?:jobs?|roles?|careers?|career paths?|positions?|openings?|demand|hiring|hires?|market|professionals|"
    r"specialists|individuals|workers|talent|employ\w*|occupations?)\b|岗|职位|需求|招|市场|人才|工作",
    re.I,
)
_OUTLOOK_CLAUSE_RE = re.compile(r"[,;:，；：—]|\s(?:but|while|although|whereas)\s", re.I)


def about_jobs(text: str) -> bool:
    """The sentence speaks of jobs, hiring or the market for them (not only of the work itself)."""
    return _JOBS_RE.search(text) is not None


def is_outlook_statement(text: str, names: Sequence[str] = ()) -> bool:
    """An outlook cue in a clause about jobs, hiring or the people doing the work ('all roles that are
    likely to see continued growth', '岗位需求在萎缩'); 'reducing the risk of errors', 'a growing field',
    'Transformers' are not. ``names``: the role's own names, which count as the people doing the work
    ('CV算法工程师现在很卷') when the sentence sits in the role's own section."""
    from .names import find_term

    for clause in _OUTLOOK_CLAUSE_RE.split(text):
        if clause and any(outlook_cues(clause).values()) and (
                _JOBS_RE.search(clause) or any(find_term(n, clause) for n in names)):
            return True
    return False


# Offline fallback only (cards rank sentences by the embedder when it is there): generic skill wording.
_SKILL_RE = re.compile(
    r"\bskills?\b|\bskilled\b|\bexpertise\b|\bknowledge of\b|\bfoundation in\b|\bproficien\w*|"
    r"\bunderstanding of\b|\brequire[sd]?\b|\babilit(?:y|ies)\b|\bfamiliar\w*|\bexperience (?:in|with)\b|"
    r"技能|能力|掌握|熟悉|熟练|精通|要求",
    re.I,
)
_STRONG_SKILL_RE = re.compile(
    r"\bfoundation in\b|\bknowledge of\b|\bexpertise in\b|\bproficien\w*|\bskilled (?:at|in)\b|"
    r"\bunderstanding of\b|\bfamiliar(?:ity)? with\b|\bexperience (?:in|with)\b|掌握|技能|熟悉|熟练|精通",
    re.I,
)
# What keeps people valuable, said the general ways English and Chinese say it: what the machine cannot
# (yet) do, the work that does not need it, what humans remain crucial for.
_HUMAN_VALUE_RE = re.compile(
    r"\b(?:cannot|can't|can not|unable to|struggles? to|fails? to)\s+(?:yet\s+)?(?:match|replace|replicate)\b|"
    r"\b(?:do|does) not require\b|\bhumans?\b[^.;]{0,40}\b(?:crucial|essential|irreplaceable|still needed)\b|"
    r"\bhuman (?:judg\w+|touch|oversight|insight)|"
    r"(?:无法|不能|难以)(?:替代|取代)|人的(?:判断|创造力|同理心)",
    re.I,
)
_CLAUSE_SPLIT_RE = re.compile(
    r",\s*(?=(?:especially|but|while|although|though|yet|whereas|except|unless)\b)|(?<=[，；;])|(?<=—)", re.I
)

_OUTLOOK_ORDER = {"growing": 0, "reshaped": 1, "at risk": 2, "unclear": 3}
_KIND_WEIGHT = {"definition": 1.0, "section": 1.5, "context": 1.0, "mention": 1.0, "topic": 0.6}


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


def tag_outlook(ev: Sequence[Evidence]) -> tuple[Outlook, dict[str, float]]:
    """Tally direction words in the role's outlook sentences; a jobs heading above them counts most."""
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


def relate(roles: list[Role], n: int = 4) -> None:
    """Related roles: same sentence, same jobs section, same chunk; the same document only to fill up."""
    strong: dict[tuple[str, str], float] = defaultdict(float)
    same_doc: dict[tuple[str, str], int] = defaultdict(int)

    def facets(r: Role) -> tuple[set[Any], set[str], set[Any], set[str]]:
        return (
            {(e.source, e.order) for e in r.evidence},
            {e.chunk_id for e in r.evidence if e.kind != "topic"},
            {(e.source, e.parent) for e in r.evidence if e.kind == "section" and e.parent},
            {e.source for e in r.evidence if e.kind not in ("topic",)},
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


