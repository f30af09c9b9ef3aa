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

from .text import contains_run, tokenize


@dataclass(frozen=True)
class Concept:
    en: tuple[tuple[str, ...], ...]  # each English variant as its stemmed token sequence
    zh: tuple[str, ...]  # Chinese variants, matched as substrings
    tokens: frozenset[str]  # every token of every variant, both languages


def _rows() -> list[tuple[str, str]]:
    text = resources.files("knowledge").joinpath("data/glossary.tsv").read_text(encoding="utf-8")
    rows: list[tuple[str, str]] = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#") or "\t" not in line:
            continue
        en_part, zh_part = line.split("\t", 1)
        rows.append((en_part, zh_part))
    return rows


def segment_table() -> dict[str, list[str]]:
    """Every Chinese run in the glossary -> jieba's segmentation of it (runs jieba).

    Shipped pre-computed as data/zh_segments.json: text.tokenize uses it so that the
    glossary's Chinese terms, added to English questions, never pay jieba's ~1 s load.
    """
    from .text import cjk_runs, segment_with_jieba

    runs: set[str] = set()
    for _, zh_part in _rows():
        for variant in zh_part.split("|"):
            for run in cjk_runs(variant.strip().lower()):
                runs.add(run)
                runs.update(r for tok in segment_with_jieba(run) for r in cjk_runs(tok))
    return {run: segment_with_jieba(run) for run in sorted(runs)}


@lru_cache(maxsize=1)
def concepts() -> tuple[Concept, ...]:
    out: list[Concept] = []
    for en_part, zh_part in _rows():
        en = tuple(t for t in (tuple(tokenize(v)) for v in en_part.split("|")) if t)
        zh = tuple(v.strip().lower() for v in zh_part.split("|") if v.strip())
        tokens = frozenset(tok for v in en for tok in v) | frozenset(t for v in zh for t in tokenize(v))
        out.append(Concept(en, zh, tokens))
    return tuple(out)


def named_concepts(query: str, tokens: list[str]) -> list[Concept]:
    """The glossary concepts the query names, in either language."""
    lowered = query.lower()
    return [c for c in concepts() if any(v in lowered for v in c.zh) or any(contains_run(tokens, v) for v in c.en)]


def expand(query: str, tokens: list[str]) -> list[str]:
    """Tokens of every glossary concept the query mentions, minus those it already has."""
    extra: set[str] = set()
    for c in named_concepts(query, tokens):
        extra |= c.tokens
    return sorted(extra - set(tokens))
