"""Language-aware text utilities shared by ingestion, retrieval and the writers.

Sentence splitting and tokenising work for English and Chinese alike: Chinese has no
spaces, so sentences end at 。！？ and words come from jieba (loaded lazily, only when
a text actually contains Chinese, so English-only paths stay fast).
"""

from __future__ import annotations

import json
import re
import threading
from functools import lru_cache
from typing import Any

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # CJK ideographs: extension A, unified, compatibility
CJK_RE = re.compile(f"[{_CJK}]")
CJK_RUN_RE = re.compile(f"[{_CJK}]+")
_WORD_RE = re.compile(r"[a-z0-9][a-z0-9+#.\-]*[a-z0-9+#]|[a-z0-9]")
# A sentence ends at . ! ? followed by space/end (English) or at 。！？； (Chinese),
# keeping closing quotes/brackets with the sentence.
_SENT_END_RE = re.compile(r"(?<=[。！？!?；;])[”’」』）)]*|(?<=[.])(?=\s+[A-Z0-9\"“(\[*#])")

STOPWORDS = frozenset(
    """a an the and or but if then else of to in on at by for with from as is are was were be been
    being it its this that these those there here what which who whom whose when where why how
    do does did done doing have has had having i me my we our you your he she they them their his
    her will would shall should can could may might must not no nor so than too very just about
    into over under again further once all any both each few more most other some such only own
    same s t don now also up down out off am get got like one ones much many lot lots really
    tell know want think please let us give show""".split()
)

ZH_STOPWORDS = frozenset(
    """的 了 是 在 和 也 就 都 而 及 与 着 或 一个 没有 我们 你们 他们 这个 那个 什么 怎么 如何 哪些
    为什么 吗 呢 吧 啊 我 你 他 她 它 这 那 有 会 要 能 对 把 被 让 给 从 到 还 又 很 最
    更 再 上 下 中 个 之 其 该 等 因为 所以 但是 如果 可以 已经 还是 就是 这样 那么 然后 因此 虽然 而且 并且 或者
    以及 自己 这些 那些 一些 时候 还有 有没有 是不是 大概 一般 比较 真的 其实""".split()
)

_jieba_lock = threading.Lock()


def has_cjk(text: str) -> bool:
    return CJK_RE.search(text) is not None


def language(text: str) -> str:
    """'zh' when Chinese characters make up a real share of the letters, else 'en'."""
    cjk = len(CJK_RE.findall(text))
    latin = len(re.findall(r"[A-Za-z]", text))
    return "zh" if cjk and cjk * 3 >= latin * 0.5 else "en"


@lru_cache(maxsize=1)
def _jieba() -> Any:
    with _jieba_lock:
        import logging

        import jieba

        jieba.setLogLevel(logging.WARNING)
        jieba.initialize()
        return jieba


def _stem(word: str) -> str:
    """A deliberately light English stemmer: plural and common verb endings."""
    if len(word) <= 3 or not word.isalpha():
        return word
    for suffix, repl in (("ies", "y"), ("sses", "ss"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            if suffix == "s" and word.endswith(("ss", "us", "is")):
                return word
            if suffix == "es" and not word.endswith(("ches", "shes", "xes", "sses")):
                return word[:-1]
            return word[: len(word) - len(suffix)] + repl
    return word


def contains_run(seq: list[str], sub: tuple[str, ...]) -> bool:
    """Whether the token list ``seq`` holds the tokens ``sub`` next to each other, in order."""
    n = len(sub)
    return n > 0 and any(tuple(seq[i:i + n]) == sub for i in range(len(seq) - n + 1))


def join_sentences(sentences: list[str]) -> str:
    """Sentences as one text: Chinese ones (or a Chinese one after a marker) close up, others get a space."""
    out = ""
    for s in sentences:
        if not out:
            out = s
        elif has_cjk(out[-1:]) or (out.endswith(("。", "！", "？", "]")) and has_cjk(s[:1])):
            out += s
        else:
            out += " " + s
    return out


def cjk_runs(text: str) -> list[str]:
    return CJK_RUN_RE.findall(text)


def segment_with_jieba(run: str) -> list[str]:
    """jieba's search-mode words for one run of Chinese characters, stopwords dropped."""
    return [w for w in _jieba().lcut_for_search(run) if w not in ZH_STOPWORDS and w.strip()]


@lru_cache(maxsize=1)
def _known_segments() -> dict[str, list[str]]:
    """Pre-computed jieba output for the glossary's Chinese terms (data/zh_segments.json)."""
    try:
        from importlib import resources

        raw = resources.files("knowledge").joinpath("data/zh_segments.json").read_text(encoding="utf-8")
        table = json.loads(raw)
        return table if isinstance(table, dict) else {}
    except (OSError, ValueError):
        return {}


def tokenize(text: str) -> list[str]:
    """Lexical tokens for BM25: stemmed English words and jieba words for Chinese."""
    return list(_tokens(text))


@lru_cache(maxsize=32768)
def _tokens(text: str) -> tuple[str, ...]:
    """``tokenize``'s work, remembered: the same passage sentences are read again for every question
    that retrieves them, and segmenting Chinese with jieba is the costly part of answering."""
    lowered = text.lower()
    tokens: list[str] = []
    for word in _WORD_RE.findall(CJK_RUN_RE.sub(" ", lowered)):
        if word not in STOPWORDS:
            tokens.append(_stem(word))
    for run in CJK_RUN_RE.findall(lowered):
        known = _known_segments().get(run)
        tokens.extend(known if known is not None else segment_with_jieba(run))
    return tuple(tokens)


def split_sentences(text: str) -> list[str]:
    """Split a paragraph into sentences without breaking Chinese ones apart.

    Every returned sentence is a verbatim substring of ``text`` (stripped), so it can
    serve as a citation quote.
    """
    out: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        start = 0
        for match in _SENT_END_RE.finditer(line):
            end = match.end()
            piece = line[start:end].strip()
            if piece:
                out.append(piece)
            start = end
        tail = line[start:].strip()
        if tail:
            out.append(tail)
    return _merge_fragments(out)


_ABBREV_RE = re.compile(r"(?:\b(?:e\.g|i\.e|etc|vs|Mr|Dr|Ms|St|No|U\.S)\.|\b[A-Z]\.)$")


def _merge_fragments(sentences: list[str]) -> list[str]:
    """Re-join splits made after abbreviations and numbered-list markers like '1.'."""
    merged: list[str] = []
    for s in sentences:
        if merged and (_ABBREV_RE.search(merged[-1]) or re.fullmatch(r"\d+\.", merged[-1])):
            merged[-1] = merged[-1] + " " + s
        else:
            merged.append(s)
    return merged


def weight(text: str) -> int:
    """Length measure for chunking: a Chinese character carries about as much as 3 Latin ones."""
    cjk = len(CJK_RE.findall(text))
    return len(text) - cjk + 3 * cjk


EN_WORD_RE = re.compile(r"[a-z][a-z0-9+#]*(?:[-'][a-z0-9]+)*")  # an English word, lower-cased: "c++", "h-1b", "don't"
MIN_SPECIFICITY = 3.0  # 8 - Zipf: rarer than 100 per million words in general language


@lru_cache(maxsize=20000)
def specificity(term: str) -> float:
    """How rare the term is in general language: 8 - Zipf frequency (0 for the commonest words, 8 for
    words the tables have never seen: typos, identifiers, error names)."""
    try:
        from wordfreq import zipf_frequency
    except ImportError:  # a broken install: every term equally specific
        return 4.0
    lang = "zh" if CJK_RUN_RE.search(term) else "en"
    return 8.0 - float(zipf_frequency(term, lang))


# The other language named as a document's: "the Chinese post" in an English question, "那篇英文文章" in a Chinese one.
_OTHER_LANGUAGE_NAMES = {"en": ("zh", re.compile(r"\bChinese\b", re.I)), "zh": ("en", re.compile(r"英文|英语"))}


def names_other_language(question: str) -> str | None:
    """The language ("zh"/"en") a question names when it is not the question's own: a reader asking in English about
    "the Chinese blog post" means a document written in Chinese. Naming its own language says nothing of the kind."""
    other, pattern = _OTHER_LANGUAGE_NAMES[language(question)]
    return other if pattern.search(question) else None
