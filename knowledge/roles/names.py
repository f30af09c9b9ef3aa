"""Job-title grammar: what a role name looks like, in English and Chinese, and how names compare.

A role name is a short noun phrase whose last word is a job-title head noun ("engineer",
"scientist", "advocate", …; 工程师, 科学家, 经理, …), optionally preceded by modifiers
("ML infrastructure", 推荐算法). The head nouns are a closed class of the language, not a list
of roles: any modifier combines with any head, so a document can name roles nobody listed.
"Role", "job" and "position" are not heads: "Junior vs senior role" names no role.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ..text import has_cjk

# English job-title head nouns (singular). A closed word class, like pronouns: it grows with the
# language, not with a corpus.
EN_HEADS = frozenset(
    "engineer scientist analyst manager architect researcher developer designer advocate writer translator "
    "interpreter editor specialist professional representative consultant lawyer attorney educator coach "
    "teacher tutor instructor auditor administrator programmer statistician economist ethicist "
    "strategist technician annotator labeler evangelist officer director "
    "mathematician physicist linguist copywriter journalist illustrator artist marketer".split()
)
# Heads that say nothing on their own: "engineer" alone is not a role, "translator" is.
GENERIC_HEADS = frozenset(
    "engineer scientist analyst manager architect researcher developer designer specialist professional "
    "representative consultant officer director administrator technician advocate".split()
)
# Abbreviated titles that are heads by themselves ("AI PM", "SRE").
EN_ABBREV_HEADS = frozenset({"pm", "pms", "sre", "sres", "swe", "swes", "mle", "mles"})
# Chinese job-title heads (the suffix of a title).
ZH_HEADS = (
    "工程师", "科学家", "分析师", "经理", "架构师", "研究员", "设计师", "开发者", "专家", "顾问", "律师",
    "讲师", "教师", "审计师", "翻译官", "编辑", "研究者", "产品经理", "岗", "训练师", "专员", "咨询师", "规划师",
)
# Seniority and level words: they qualify a person, not the role ("senior data scientist").
SENIORITY = frozenset(
    "senior junior lead principal staff chief head associate intern entry-level mid-level sr jr "
    "distinguished".split()
)
# Words that never sit inside a job title: articles, pronouns, question words, auxiliaries,
# prepositions, conjunctions. A noun phrase stops at them.
_STOP = frozenset(
    "a an the this that these those my your our their his her its i you we they he she it who whom whose "
    "what which when where why how is are was were be been being am do does did done have has had will "
    "would can could should may might must shall of about for from to in on at by with as into onto than "
    "and or but nor vs vs. versus not no yes if so also just only more most less other another each every "
    "some any all many much such like let let's lets start walk us between among become becoming becomes "
    "work works working worked hire hiring hired want need needs get gets getting make makes making "
    "there here then now very really quite typical typically good great best new old first second third "
    "different various main key type types kind kinds beyond within across without through over under after "
    "before via per inside outside toward towards against along around behind below above near among "
    "include includes including included call called named titled traditional typical regular normal usual "
    "average experienced successful aspiring future former existing current real true actual unlike besides "
    "except despite".split()
)
_CONNECT_RE = re.compile(r"\s*(?:,|;|/|&|\band\b|\bor\b|、|和|与|及|或)\s*", re.I)
_VS_RE = re.compile(r"\s+(?:vs\.?|versus|v\.|or)\s+|\s*(?:对比|vs\.?)\s*", re.I)
_NUMBERING_RE = re.compile(
    r"^\s*(?:(?:\d{1,3}(?:[.．]\d{1,3})*[.．、)）]?)|[(（][\d一二三四五六七八九十]{1,3}[)）]|"
    r"[一二三四五六七八九十]{1,3}[、.．]|第[\d一二三四五六七八九十]{1,4}[章节部分篇讲])\s*"
)
_MARKUP_RE = re.compile(r"\*\*|__|(?<!\w)[*_](?=\w)|(?<=\w)[*_](?!\w)|`")
_LINK_RE = re.compile(r"\[\[(?:[^\]|]*\|)?\s*([^\]]*?)\s*\]\]|\[([^\]]*)\]\([^)]*\)")
_TAG_RE = re.compile(r"<[^>]+>")
_EMOJI_RE = re.compile(r"[\U0001F000-\U0001FAFF\u2600-\u27BF\uFE0F\u200d]")
_PAREN_RE = re.compile(r"\s*[(（]([^)）]{1,40})[)）]")
_EN_WORD_RE = re.compile(r"[A-Za-z][A-Za-z0-9+#'\-]*|[0-9]+[A-Za-z]+")
# Characters that end a Chinese title's modifiers on the left (function words, verbs of hiring).
_ZH_STOP_CHARS = set("的是在做个位名招聘和与及或为成当了、，。：:；;！？“”\"'（）()【】《》　"
                     "一二三四五六七八九十几些者要想从到把被让给对向跟请")
# Verbs, Q&A markers, quantifiers and verbs taking a clause (听说, 觉得) that come before a title but are
# never part of it (问/答, 取代, 成为, 应聘, 很多 …).
_ZH_CUT_RE = re.compile(
    r"问|答|取代|替代|成为|转行|应聘|面试|担任|从事|会不会|不会|找|去|想|转岗|转型|转向|转到|转做|改行|"
    r"改做|跳槽|入行|进入|加入|考虑|打算|准备|选择|希望|投递|报考|如何|怎么|怎样|还是|适合|可以|"
    r"能否|继续|变成|很多|许多|不少|大多数|大部分|多数|有些|有的|所有|每个|其他|其它|我们|你们|"
    r"他们|现在|目前|如果|因为|所以|但是|而且|虽然|就是|也是|还有|以及|听说|据说|觉得|认为|知道|发现|感觉|"
    r"以为|看到|听到"
)
# Verbs of one character that may open a title's modifiers in running text (转数据分析师 "switch to
# data analyst", 学…, 投…): dropped when the word segmenter reads the character as a word of its own (or
# joins it to the next into a pair its dictionary barely knows), so 转化率分析师 keeps its 转.
_ZH_LEAD_VERBS = frozenset("转学投干考选能当做")
_ZH_HEAD_RE = re.compile("(" + "|".join(sorted(ZH_HEADS, key=len, reverse=True)) + ")(?!位)")
# A title's head alone (工程师, 研究员), as the rest of a title after its field.
ZH_HEAD_RE = re.compile("|".join(sorted(ZH_HEADS, key=len, reverse=True)))
_ZH_MOD_RE = re.compile(r"[A-Za-z\u4e00-\u9fff]")
_ABBREV = {"machine learning": "ml", "artificial intelligence": "ai", "natural language processing": "nlp",
           "computer vision": "cv", "large language model": "llm", "deep learning": "dl"}
_PLURAL_EXCEPTIONS = {"analysis", "ethics", "sales", "news", "physics", "economics", "statistics", "operations",
                      "mathematics", "linguistics", "devops", "mlops", "llmops", "aiops"}


def clean_title(text: str) -> str:
    """Heading or lead-in text without markup, links, emoji and section numbering."""
    t = _TAG_RE.sub(" ", text)
    t = _LINK_RE.sub(lambda m: m.group(1) or m.group(2) or "", t)
    t = _MARKUP_RE.sub("", t)
    t = _EMOJI_RE.sub(" ", t)
    t = re.sub(r"^\s*#{1,6}\s*", "", t)
    t = re.sub(r"^\s*(?:[-*•+]\s+)", "", t)
    t = _NUMBERING_RE.sub("", t, count=1)
    return " ".join(t.split()).strip(" :：-–—")


def singular(word: str) -> str:
    w = word.lower()
    if w in _PLURAL_EXCEPTIONS or len(w) <= 3 or not w.isalpha():
        return word[:-1] if w in ("pms", "sres", "swes", "mles") else word
    if w.endswith("ies"):
        return word[:-3] + "y"
    if w.endswith(("sses", "ches", "shes", "xes")):
        return word[:-2]
    if w.endswith("s") and not w.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def is_head(word: str) -> bool:
    w = word.lower().strip(".,;:!?'\"")
    return singular(w) in EN_HEADS or w in EN_ABBREV_HEADS


def _words(text: str) -> list[str]:
    return _EN_WORD_RE.findall(text)


def is_role_name(name: str) -> bool:
    """A short phrase that ends in a job-title head, with a modifier when the head is generic."""
    name = name.strip()
    if not name:
        return False
    if has_cjk(name):
        return zh_role_name(name) == name
    words = _words(name)
    if not 1 <= len(words) <= 6:
        return False
    if re.search(r"[.!?:;。！？]|\s[-–—]\s", name.rstrip(".")) or re.search(r"\d{2,}", name):
        return False
    if not is_head(words[-1]):
        return False
    mods = [w for w in words[:-1] if w.lower() not in SENIORITY]
    if any(w.lower() in _STOP for w in mods):
        return False
    last = singular(words[-1].lower())
    return bool(mods) or (last not in GENERIC_HEADS and last not in EN_ABBREV_HEADS)


def strip_seniority(name: str) -> str:
    if has_cjk(name):
        return re.sub(r"^(高级|资深|初级|中级|首席|主任|实习)", "", name) or name
    words = name.split()
    while len(words) > 2 and words[0].lower().strip(",") in SENIORITY:
        words = words[1:]
    if len(words) == 2 and words[0].lower() in SENIORITY and singular(words[1].lower()) not in GENERIC_HEADS:
        words = words[1:]
    return " ".join(words)


def display(name: str) -> str:
    """'Translators' → 'Translator': the last word singular, as written otherwise."""
    name = " ".join(name.split())
    if has_cjk(name):
        return name
    words = name.split(" ")
    if words:
        words[-1] = singular(words[-1])
    return " ".join(words)


def noun_phrases(text: str) -> list[tuple[int, int, str]]:
    """Role noun phrases inside a line of English text: (start, end, phrase) for each head noun
    with the name-like words right before it ("Where do data analysts fit…" → "data analysts")."""
    out: list[tuple[int, int, str]] = []
    tokens = list(re.finditer(r"[A-Za-z][A-Za-z0-9+#'\-]*", text))
    for i, tok in enumerate(tokens):
        if not is_head(tok.group(0)):
            continue
        j = i
        while j > 0 and i - j < 4:
            prev = tokens[j - 1]
            gap = text[prev.end():tokens[j].start()]
            if gap not in (" ", "-", "/") or prev.group(0).lower() in _STOP:
                break
            j -= 1
        while j < i and tokens[j].group(0).lower() in SENIORITY:
            j += 1
        start = tokens[j].start()
        phrase = text[start:tok.end()]
        if is_role_name(phrase):
            out.append((start, tok.end(), phrase))
    return out


def zh_role_name(text: str) -> str | None:
    """The Chinese title a text ends with (搜索算法工程师), or None (a bare head like 工程师 is not one)."""
    names = zh_role_names(text)
    return names[-1] if names and text.endswith(names[-1]) else None


def zh_role_names(text: str) -> list[str]:
    """Chinese titles in a text: a head suffix with 2–12 modifier characters before it."""
    out: list[str] = []
    for m in _ZH_HEAD_RE.finditer(text):
        i = m.start()
        while i > 0 and m.start() - i < 12 and text[i - 1] not in _ZH_STOP_CHARS and (
            _ZH_MOD_RE.match(text[i - 1]) or (text[i - 1] == " " and i > 1 and re.match(r"[A-Za-z]", text[i - 2]))
        ):
            i -= 1
        mod = text[i:m.start()].strip()
        cut = _ZH_CUT_RE.search(mod)  # "会不会取代算法" → "算法": a verb or Q&A marker ends the modifiers
        while cut:
            mod = mod[cut.end():]
            cut = _ZH_CUT_RE.search(mod)
        mod = _strip_lead_verb(re.sub(r"^[0-9]+", "", mod).strip(), m.group(1))
        if len(re.sub(r"\s", "", mod)) >= 2 or (mod and re.fullmatch(r"[A-Za-z]{2,}", mod)):
            out.append((mod + m.group(1)).strip())
    return out


def _strip_lead_verb(mod: str, head: str) -> str:
    """Modifiers without the one-character verbs that open them ("转数据" → "数据"), while two characters
    of modifier stay."""
    while len(mod) > 2 and mod[0] in _ZH_LEAD_VERBS:
        from ..text import _jieba

        jieba = _jieba()
        words = jieba.lcut(mod + head)
        # 学大模型… is segmented 学大 / 模型: a pair the dictionary barely knows is the segmenter's guess.
        if not words or (words[0] != mod[0] and jieba.dt.FREQ.get(words[0], 0) >= 20):
            break
        mod = mod[1:].lstrip()
    return mod


def split_names(text: str) -> list[str]:
    """'Translators and Interpreters' → ['Translators', 'Interpreters']; a name with a shared head
    ('ML accelerator/hardware engineer') stays whole."""
    parts = [p.strip() for p in _CONNECT_RE.split(text) if p and p.strip()]
    if len(parts) > 1 and not all(is_role_name(p) for p in parts):
        return [text.strip()]
    return parts


def split_versus(text: str) -> list[str]:
    return [p.strip() for p in _VS_RE.split(text) if p and p.strip()]


def abbreviation(text: str) -> tuple[str, list[str]]:
    """'Site Reliability Engineers (SREs)' → ('Site Reliability Engineers', ['SREs'])."""
    extra = [m.group(1).strip() for m in _PAREN_RE.finditer(text)]
    base = _PAREN_RE.sub("", text).strip()
    return base, [e for e in extra if 1 <= len(e.split()) <= 3 and not re.search(r"\d", e)]


def normalize(text: str) -> str:
    """Lowercase, punctuation to spaces, plural last word made singular, role/job suffix dropped."""
    t = text.lower().strip()
    t = re.sub(r"[\"'“”‘’`*_()\[\]{}?？!！。,，:：;；]|(?<=[a-z])-(?=[a-z])", " ", t)
    t = re.sub(r"\s*[/&]\s*", " / ", t)
    t = re.sub(r"\s+", " ", t).strip()
    t = re.sub(r"^(an?|the)\s+", "", t)
    t = re.sub(r"\s+(role|roles|job|jobs|position|positions|career)$", "", t)
    t = re.sub(r"(岗位|职位|这个职业|这个工作)$", "", t) if has_cjk(t) and len(t) > 3 else t
    words = t.split(" ")
    if words and words[-1]:
        words[-1] = singular(words[-1])
    return " ".join(w for w in words if w)


def merge_key(name: str) -> str:
    """The key two spellings of one role share: 'Machine learning engineers' ~ 'ML engineer'."""
    n = normalize(strip_seniority(name))
    for long, short in _ABBREV.items():
        n = re.sub(rf"\b{long}\b", short, n)
    if has_cjk(n):
        n = n.replace(" ", "")
        n = re.sub(r"(岗位|岗)$", "工程师", n) if len(n) >= 3 else n  # 算法岗 is the algorithm engineer's post
    return n


def variants(name: str) -> list[str]:
    """'Machine learning engineer' → also 'ML engineer' (and back): spellings to look for in text."""
    out = [name]
    for long, short in _ABBREV.items():
        if re.search(rf"\b{long}\b", name, re.I):
            out.append(re.sub(rf"\b{long}\b", short.upper(), name, flags=re.I))
        if re.search(rf"\b{short}\b", name, re.I):
            out.append(re.sub(rf"\b{short}\b", long, name, flags=re.I))
    return dedupe(out)


def slug(name: str) -> str:
    s = re.sub(r"[^a-z0-9\u4e00-\u9fff]+", "-", name.lower()).strip("-")
    return s or "role"


def dedupe(items: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for i in items:
        k = i.strip().lower()
        if k and k not in seen:
            seen.add(k)
            out.append(i.strip())
    return out


def find_term(term: str, text: str) -> bool:
    if has_cjk(term):
        return term in text
    pattern = r"(?<![A-Za-z])" + re.escape(term) + r"(?:s|es)?(?![A-Za-z])"
    return re.search(pattern, text, re.I) is not None
