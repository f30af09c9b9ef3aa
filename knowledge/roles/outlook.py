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
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
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
    r"\b(?:few|a handful of|a small number of|limited) (?:openings|positions|jobs|roles|seats)\b",
    re.I,
)
_GROWTH_RE = re.compile(
    r"\bgrew\b|\bgrown\b|\bgrow(?:s|ing|th)\b|\brising\b|\brise in\b|\bbooming\b|\bscarce\b|\bshort supply\b|"
    r"\b(?:expect\w*|project\w*|forecast\w*|likely|set|continues?|continued|poised)\b[^.;]{0,60}?\bto "
    r"(?:grow|expand|increase|rise)\b|"
    r"\b(?:outlook|prospects?)\b[^.;]{0,30}\b(?:good|great|strong|bright|excellent|promising|positive|solid)\b|"
    r"\bhard to (?:hire|find|fill)\b|\bhottest\b|\bneed (?:many )?more\b|"
    r"\bmore and more (?:companies|teams|employers|startups)\b|"
    r"\bdemand for\b|\bin (?:high |great |strong )?demand\b|\bincreas(?:ed|ing) demand\b|"
    r"\bsought[- ]after\b|\bshortage\b|\bwill be (?:vital|crucial|essential|in demand)\b|"
    r"\bincreasingly (?:important|valuable|needed)\b|\bemerg(?:e|es|ing)\b|\blucrative\b",
    re.I,
)
_RESHAPE_RE = re.compile(
    r"\breshap\w*|\btransform(?:s|ed|ing)?\b(?! *(?:er|ers)\b)|\bnew avenues\b|\bshift(?:s|ing)? (?:in|to|toward)|"
    r"\bevolv(?:e|es|ing) (?:role|job)",
    re.I,
)
# --- Chinese: a small grammar of market statements --------------------------------------------------
# Chinese states a job's prospects two ways: a predicate that is itself about the job market (吃香, 缺人,
# 饱和, 被裁, 内卷 …), or an outlook noun (前景, 需求, 岗位, 机会 …) with a word of direction after it (前景
# 很好, 需求不大, 岗位越来越少). A negation right before the predicate (不, 没有, 不再, 不会被AI …) turns
# a market word into its opposite (并不缺人, 没有前途, 不再吃香; 不难找, 没那么卷) and cancels a word not
# about jobs by itself (不会被取代 says the job is not at risk, not that it grows) or an event (没有被裁).
# Single characters (卷, 多, 少, 大 …) count only as a word of their own for the segmenter (很卷, 越来越多),
# never inside another word (卷积, 大多, 多模态). General words of the language, not of any document; a
# sentence counts only when it is about the role (``extract._zh_role_cues``), and every tag is quoted
# with its sentence.
_ZH_UP_PRED = ("吃香", "抢手", "缺人", "紧缺", "扩招", "好找", "有前途", "有前景", "有钱途", "前途无量", "大有可为",
               "招不到人", "招人", "抢人", "求贤若渴", "人才荒")
_ZH_DOWN_PRED = ("饱和", "过剩", "被裁", "裁员", "裁掉", "内卷", "卷", "红海", "缩招", "难找", "失业", "劝退",
                 "供过于求", "供大于求", "没前途", "没有前途", "没什么前途", "没啥前途", "前途渺茫", "被优化",
                 "被淘汰")
# Events, not states: "没有被裁" is not a market that grows.
_ZH_DOWN_EVENTS = frozenset(("被裁", "裁员", "裁掉", "缩招", "失业", "劝退", "被优化", "被淘汰"))
# Words of direction that are not about jobs by themselves (AI 取代 a task, users' growth 见顶, a 风口 of
# an industry): they need a word of jobs, the role's name or a reference back to it in their clause, as
# the English ones do.
_ZH_GENERIC_UP = ("稀缺", "缺口", "供不应求", "热门", "火热", "火爆", "很火", "香饽饽", "风口", "红利", "旺盛",
                  "越来越多的公司", "越来越多的企业", "越来越多的团队", "越来越多公司", "越来越多企业")
_ZH_GENERIC_DOWN = ("取代", "替代", "淘汰", "下滑", "过时", "越来越少", "萎缩", "缩水", "没落", "凉了", "寒冬",
                    "不景气", "见顶", "夕阳", "萎靡")
# 大量人才, 大批岗位: many posts to fill.
_ZH_MANY_RE = re.compile(r"(?:大量|大批量?|海量)的?[\u4e00-\u9fffA-Za-z]{0,6}?(?:人才|岗位|职位|人手|坑位)")
_ZH_RESHAPE = ("转型", "重塑")
_ZH_TOPICS = ("前景", "前途", "需求量", "需求", "岗位", "职位", "机会", "坑位", "坑", "HC", "hc", "就业", "招聘",
              "发展空间", "钱途", "市场", "找工作")
# Nouns whose growth is the job's loss: more competition for it (竞争很激烈, 竞争越来越大).
_ZH_INVERSE_TOPICS = ("竞争",)
_ZH_UP_WORDS = ("激烈", "好", "不错", "广阔", "光明", "可观", "大", "多", "旺盛", "增长", "上涨", "增加", "扩大",
                "上升", "乐观", "看好", "明朗", "充足", "容易", "涨", "暴增", "大增", "猛增", "激增")
_ZH_DOWN_WORDS = ("差", "难", "降", "跌", "一般", "黯淡", "暗淡", "堪忧", "渺茫", "有限", "小", "少", "减少",
                  "下降", "萎缩", "缩水", "下滑", "悲观", "收缩", "紧缩", "锐减", "不明朗")
_ZH_DEGREE = ("很", "太", "非常", "越来越", "特别", "十分", "相当", "挺", "更", "更加", "比较", "极", "较", "超",
              "极其", "不", "没", "并不", "不再", "还", "也", "都")
# What may stand between an outlook noun and its word of direction: adverbs of degree, time and manner,
# negation, particles (需求[在快速]增长, 岗位[这几年越来越]少). Anything else (岗位[难度]大) is another subject.
_ZH_LINK = frozenset(
    "很 太 非常 越来越 特别 十分 相当 挺 更 更加 比较 极 较 超 极其 也 都 还 仍 仍然 依然 依旧 一直 持续 在 正在 "
    "快速 迅速 大幅 逐渐 逐年 明显 显著 稳步 急剧 不断 的 了 会 将 可能 确实 其实 真的 相对 已经 还是 是 算 "
    "肯定 应该 同样 正 今年 去年 近年 近几年 这几年 这两年 这 两年 几年 目前 现在 未来 将来 一定 不 没 没有 "
    "并 并不 不再 不太 不算 不是 再 反而 却 倒是 其实 要 会 将会 还会 一些 一点".split()
)
_ZH_NEG_RE = re.compile(
    r"(?:不|没有?|未|毫无|并非|别)(?:会|再|太|怎么|那么|是|能|至于|用|算|很|大)?(?:被[^，,。；;]{0,6})?$"
)
_ZH_CLAUSE_RE = re.compile(r"[，,；;。！？!?：:、]|(?:但是|但|不过|然而|而且)")


@lru_cache(maxsize=4096)
def _tokens(text: str) -> tuple[tuple[int, str], ...]:
    """The segmenter's words of a text with their offsets (remembered: a clause is read once per word looked up)."""
    from ..text import _jieba

    out, pos = [], 0
    for tok in _jieba().lcut(text):
        out.append((pos, tok))
        pos += len(tok)
    return tuple(out)


def _longest_first(words: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(words, key=len, reverse=True))


# Sorted once: each is tried longest first.
_ZH_PREFIXES = _longest_first({*_ZH_DEGREE, *_ZH_LINK})
_ZH_DIRECTION_WORDS = ((_longest_first(_ZH_DOWN_WORDS), "at risk"), (_longest_first(_ZH_UP_WORDS), "growing"))
_ZH_CUE_WORDS = tuple((_longest_first(words), direction, market) for words, direction, market in (
    (_ZH_DOWN_PRED, "at risk", True), (_ZH_UP_PRED, "growing", True), (_ZH_GENERIC_DOWN, "at risk", False),
    (_ZH_GENERIC_UP, "growing", False), (_ZH_RESHAPE, "reshaped", False)))


def _realizes(tok: str, word: str) -> bool:
    """The segmenter's word is ``word``, with degree or negation before it ('很大', '不好', '越来越多')
    or a complement after it ('卷得'); '卷积', '大多' are other words."""
    for d in _ZH_PREFIXES:
        if tok.startswith(d) and len(tok) > len(d) and tok[len(d):] == word:
            return True
    if len(word) > 1 and word in tok:
        return True
    return tok == word or (tok.startswith(word) and tok[len(word):] in ("得", "了", "成", "一些", "一点", "些", "点"))


def _zh_word_at(text: str, start: int, word: str) -> bool:
    """A one-character word stands as a word of its own there ('很卷', '越来越多'; not '卷积', '大多')."""
    if len(word) > 1:
        return True
    for pos, tok in _tokens(text):
        if pos <= start < pos + len(tok):
            return _realizes(tok, word)
    return False


def _negated(before: str) -> bool:
    return _ZH_NEG_RE.search(before[-8:]) is not None


def _topic_direction(clause: str, after: int) -> tuple[int, str, str] | None:
    """The word of direction right after an outlook noun (links only between), as (start, direction, word)."""
    compared = 0  # 比去年多, 比算法岗大: the words of a comparison's standard may come in between
    for pos, tok in _tokens(clause[after:]):
        for words, direction in _ZH_DIRECTION_WORDS:
            for w in words:
                if _realizes(tok, w):
                    return after + pos + tok.rfind(w), direction, w
        if tok in ("比", "比起", "相比"):
            compared = 3
        elif compared and tok.strip():
            compared -= 1
        elif tok.strip() and tok not in _ZH_LINK:
            return None
    return None


def zh_cues(text: str) -> list[tuple[str, int, bool]]:
    """The market statements of a Chinese sentence: (direction, position, about jobs by itself) each,
    negation applied ('并不缺人' is 'at risk'; '不会被取代' is nothing)."""
    out: list[tuple[str, int, bool]] = []
    taken: set[int] = set()
    pos = 0
    for clause in _ZH_CLAUSE_RE.split(text):
        base = text.find(clause, pos) if clause else pos
        pos = base + len(clause)
        found: list[tuple[int, int, str, bool]] = []  # start, end, direction, market word
        for m in _ZH_MANY_RE.finditer(clause):
            found.append((m.start(), m.end(), "growing", True))
        for words, direction, market in _ZH_CUE_WORDS:
            for w in words:
                for m in re.finditer(re.escape(w), clause):
                    if _zh_word_at(clause, m.start(), w) and not any(a <= m.start() < b for a, b, _, _ in found):
                        found.append((m.start(), m.end(), direction, market))
        for t in (*_ZH_TOPICS, *_ZH_INVERSE_TOPICS):  # 前景很好, 需求不大, 岗位越来越少, 竞争激烈
            for m in re.finditer(re.escape(t), clause):
                got = _topic_direction(clause, m.end())
                if got is not None and not any(a <= got[0] < b for a, b, _, _ in found):
                    direction = got[1]
                    if t in _ZH_INVERSE_TOPICS:
                        direction = {"growing": "at risk", "at risk": "growing"}[direction]
                    found.append((got[0], got[0] + len(got[2]), direction, True))
        for start, end, direction, market in sorted(found):
            if _negated(clause[:start]):
                # 并不缺人, 没有前途: the opposite. 不难找, 没那么卷: a market word's opposite too (easy to
                # find, little competition). 不会被取代 only says "not at risk".
                if direction == "growing":
                    direction = "at risk"
                elif direction == "at risk" and market and clause[start:end] not in _ZH_DOWN_EVENTS:
                    direction = "growing"
                else:
                    continue
            if base + start not in taken:
                taken.add(base + start)
                out.append((direction, base + start, market))
    return out


# A Chinese clause that refers back to the role it is about (这个方向已经见顶).
ZH_BACK_REF_RE = re.compile(r"这个(?:方向|行业|职业|领域)|这一?行|该方向|这类(?:工作|岗位)")
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

    if has_cjk(text) and any(market for _, _, market in zh_cues(text)):
        return True  # 吃香, 缺人, 饱和, 前景很好: a statement about the job market by itself
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
    """Direction words of a sentence or clause: the English patterns, and ``zh_cues`` for Chinese."""
    out = {
        "at risk": len(_RISK_RE.findall(text)),
        "growing": len(_GROWTH_RE.findall(text)),
        "reshaped": len(_RESHAPE_RE.findall(text)),
    }
    if has_cjk(text):
        for direction, _, _ in zh_cues(text):
            out[direction] += 1
    return out


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


def tag_outlook(ev: Sequence[Evidence], cues: Callable[[Evidence], dict[str, int]] | None = None,
                ) -> tuple[Outlook, dict[str, float]]:
    """Tally direction words in the role's outlook sentences; a jobs heading above them counts most.
    ``cues``: the direction words of a sentence that are about the role (default: all of them)."""
    scores = {"at risk": 0.0, "growing": 0.0, "reshaped": 0.0}
    parents: set[str] = set()
    for e in ev:
        w = _KIND_WEIGHT[e.kind]
        for cue, n in (cues(e) if cues else outlook_cues(e.text)).items():
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


