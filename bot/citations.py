"""The citation check that runs after generation, and marker bookkeeping.

A writer's text cites passages with [n] (n = passage number, 1-based). ``check``
turns that into the contract: markers that point at no passage are removed, a sentence
whose cited passage does not support it is re-cited to the passage that does or
dropped, every citation gets a verbatim quote (the passage sentence that best supports
the claim), and citations are numbered 1..N in order of first appearance.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from knowledge.retrieval import Passage
from knowledge.text import has_cjk, join_sentences, split_sentences

from .answer import Citation
from .extractive import display_text, table_rows
from .guards import is_promotional
from .similarity import SentenceVectors, overlap, words

MARKER_RE = re.compile(r"\s*\[(\d+(?:\s*[,，]\s*\d+)*)\]")
_LEADING_MARKERS_RE = re.compile(r"^((?:\s*\[\d+(?:\s*[,，]\s*\d+)*\])+)\s*")


def markers(text: str) -> list[int]:
    """Every marker number in order of appearance ([1][2] and [1, 2] alike)."""
    out: list[int] = []
    for m in MARKER_RE.finditer(text):
        out.extend(int(x) for x in re.split(r"[,，]", m.group(1)))
    return out


def _sentences(line: str) -> list[str]:
    """Sentences of one line, with markers that open a sentence moved back to the previous one."""
    pieces = split_sentences(line)
    out: list[str] = []
    for p in pieces:
        m = _LEADING_MARKERS_RE.match(p)
        if m and out:
            out[-1] = out[-1] + m.group(1).rstrip()
            p = p[m.end():]
        if p.strip():
            out.append(p)
    return out




def rewrite(text: str, fn: Callable[[str], str | None]) -> str:
    """Apply ``fn`` to every sentence, line by line; None drops the sentence. Line structure is kept."""
    lines_out: list[str] = []
    for line in text.split("\n"):
        if not line.strip():
            lines_out.append(line)
            continue
        kept = [r for r in (fn(s) for s in _sentences(line)) if r is not None and r.strip()]
        if kept:
            lines_out.append(join_sentences(kept))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines_out)).strip()


def drop_sentences(text: str, bad: Callable[[str], bool]) -> str:
    return rewrite(text, lambda s: None if bad(s) else s)


def renumber(text: str, citations: Sequence[Citation]) -> tuple[str, list[Citation]]:
    """Keep markers with a citation, number them 1..N in order of appearance, drop unused citations."""
    by_n = {c.n: c for c in citations}
    new_n: dict[int, int] = {}

    def sub(m: re.Match[str]) -> str:
        nums = []
        for x in re.split(r"[,，]", m.group(1)):
            old = int(x)
            if old not in by_n:
                continue
            if old not in new_n:
                new_n[old] = len(new_n) + 1
            if new_n[old] not in nums:
                nums.append(new_n[old])
        lead = m.group(0)[: len(m.group(0)) - len(m.group(0).lstrip())]
        return lead + "".join(f"[{n}]" for n in nums) if nums else ""

    text = MARKER_RE.sub(sub, text)
    out = [
        replace(c, n=new_n[c.n]) for c in citations if c.n in new_n
    ]
    out.sort(key=lambda c: c.n)
    return re.sub(r"[ \t]+([.,;:!?])", r"\1", text).strip(), out


@dataclass
class _Support:
    score: float
    quote: str


class CitationChecker:
    """Verifies and re-targets an LLM draft's citations against the retrieved passages."""

    def __init__(self, vectors: SentenceVectors) -> None:
        self.vectors = vectors

    def _passage_sentences(self, p: Passage) -> list[str]:
        out = []
        lines = p.text.split("\n")
        rows = table_rows(lines)
        for li, line in enumerate(lines):
            if line.lstrip().startswith("#"):
                continue
            if li in rows:  # a table row is quoted whole, as its document writes it (never the header row)
                if rows[li] and not is_promotional(line):
                    out.append(p.row_quote(line.strip()))
                continue
            for s in split_sentences(line):
                if len(display_text(s)) >= 8 and not is_promotional(s):
                    out.append(s)
        return out

    def check(self, text: str, passages: Sequence[Passage]) -> tuple[str, list[Citation]]:
        """The draft with only supported, resolvable markers, and its citations (numbered 1..N)."""
        cal = self.vectors.cal
        sents = [self._passage_sentences(p) for p in passages]
        flat = [s for group in sents for s in group]
        owner = [i for i, group in enumerate(sents) for _ in group]
        vecs = self.vectors.passages(flat) if flat else np.zeros((0, 1), dtype=np.float32)
        cjk = has_cjk(text)
        flat_tokens = [words(display_text(s), cjk=cjk) for s in flat]

        quotes: dict[tuple[int, str], int] = {}  # (passage index, quote) -> citation number
        citations: list[Citation] = []

        def support(claim: str) -> np.ndarray:
            """Support score of the claim by every passage sentence."""
            if not flat:
                return np.zeros(0)
            cv = self.vectors.passages([claim])[0]
            toks = words(claim, cjk=cjk)
            lex = np.array([overlap(toks, t) for t in flat_tokens])
            return vecs @ cv + cal.support_lex * lex

        def cite(pi: int, quote: str) -> int:
            key = (pi, quote)
            if key not in quotes:
                p = passages[pi]
                quotes[key] = len(citations) + 1
                citations.append(Citation(len(citations) + 1, p.source, p.title, p.url, quote, p.where))
            return quotes[key]

        def fix(sentence: str) -> str | None:
            cited = markers(sentence)
            claim = display_text(MARKER_RE.sub("", sentence)).strip()
            if not cited:
                return sentence  # no claim made on a source ("The sources do not say.")
            if not claim or not flat:
                return None
            scores = support(claim)
            top = float(scores.max())
            nums: list[int] = []
            for n in dict.fromkeys(cited):
                pi = n - 1
                if not 0 <= pi < len(passages):
                    continue
                idx = [k for k, o in enumerate(owner) if o == pi]
                if not idx:
                    continue
                best = max(idx, key=lambda k: scores[k])
                # Supported, and not clearly worse than the passage that supports it best.
                if scores[best] >= cal.support_min and scores[best] >= top - cal.recite_margin:
                    nums.append(cite(pi, flat[best]))
            if not nums:
                best = int(np.argmax(scores))
                if scores[best] < cal.support_min:
                    return None  # cites nothing that supports it: drop the claim
                nums.append(cite(owner[best], flat[best]))
            body = MARKER_RE.sub("", sentence).rstrip()
            tail = ""
            m = re.search(r"[.。!！?？]+$", body)
            if m:
                body, tail = body[: m.start()].rstrip(), m.group(0)
            sep = "" if has_cjk(body[-1:]) else " "
            return f"{body}{sep}{''.join(f'[{n}]' for n in dict.fromkeys(nums))}{tail}"

        checked = rewrite(text, fix)
        return renumber(checked, citations)
