"""A small curated EN<->ZH glossary of career terms, used to expand BM25 queries.

Dense vectors already carry meaning across languages, but BM25 cannot: an English
question shares no tokens with the Chinese document. When a question names a
glossary concept in either language, the lexical query also gets the concept's
tokens in the other language (at a reduced weight, see ``retrieval``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from .text import tokenize


@dataclass(frozen=True)
class Concept:
    en: tuple[tuple[str, ...], ...]  # each English variant as its stemmed token sequence
    zh: tuple[str, ...]  # Chinese variants, matched as substrings
    tokens: frozenset[str]  # every token of every variant, both languages


def _contains(seq: list[str], sub: tuple[str, ...]) -> bool:
    n = len(sub)
    return n > 0 and any(tuple(seq[i:i + n]) == sub for i in range(len(seq) - n + 1))


@lru_cache(maxsize=1)
def concepts() -> tuple[Concept, ...]:
    text = resources.files("knowledge").joinpath("data/glossary.tsv").read_text(encoding="utf-8")
    out: list[Concept] = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#") or "\t" not in line:
            continue
        en_part, zh_part = line.split("\t", 1)
        en = tuple(t for t in (tuple(tokenize(v)) for v in en_part.split("|")) if t)
        zh = tuple(v.strip().lower() for v in zh_part.split("|") if v.strip())
        tokens = frozenset(tok for v in en for tok in v) | frozenset(t for v in zh for t in tokenize(v))
        out.append(Concept(en, zh, tokens))
    return tuple(out)


def expand(query: str, tokens: list[str]) -> list[str]:
    """Tokens of every glossary concept the query mentions, minus those it already has."""
    lowered = query.lower()
    have = set(tokens)
    extra: set[str] = set()
    for c in concepts():
        if any(v in lowered for v in c.zh) or any(_contains(tokens, v) for v in c.en):
            extra |= c.tokens
    return sorted(extra - have)
