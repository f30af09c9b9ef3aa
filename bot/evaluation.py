"""`careerbot eval`: run a question set through retrieval and the answer pipeline and score it.

A question set is JSON lines: {"q", "sources": [...], "facts": [...], "kind":
"in_scope" | "out_of_scope" | "adversarial", "lang": optional}. We report, per
question language and overall:

- recall@1/3/5: share of in-scope questions where a passage from one of the right
  ``sources`` is among the top 1/3/5 passages of ``KnowledgeBase.search`` (chosen mode);
- facts: mean share of expected ``facts`` found (case-insensitive) in the answer text
  plus its quotes, over in-scope questions (a refusal finds none);
- quotes verbatim: citations whose quote occurs verbatim in the source document file;
- markers ok: answers whose every ``[n]`` marker has a citation with that ``n``;
- refusal accuracy (out-of-scope and adversarial questions refused) and false refusals
  (in-scope questions refused);
- answer latency p50/p95 (wall time around ``Pipeline.answer``).

The pipeline answers through a KnowledgeBase pinned to the chosen retrieval mode, so a
`--mode dense` row is the whole bot with dense-only retrieval, not only its recall.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from knowledge.readers import plain, quote_in_document
from knowledge.text import language

from .errors import EvalFileError

if TYPE_CHECKING:
    from knowledge.base import KnowledgeBase

KINDS = ("in_scope", "out_of_scope", "adversarial")
MODES = ("hybrid", "dense", "lexical")
KS = (1, 3, 5)


@dataclass(frozen=True)
class EvalItem:
    line: int
    q: str
    sources: tuple[str, ...]
    facts: tuple[str, ...]
    kind: str
    lang: str


def parse_line(text: str, line_no: int) -> EvalItem:
    """One JSONL line to an item; any problem is an EvalFileError naming the line."""
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise EvalFileError(f"line {line_no}: not valid JSON ({exc.msg})") from None
    if not isinstance(obj, dict):
        raise EvalFileError(f"line {line_no}: expected a JSON object, got {type(obj).__name__}")
    q = obj.get("q")
    if not isinstance(q, str) or not q.strip():
        raise EvalFileError(f"line {line_no}: \"q\" must be a non-empty string")
    kind = obj.get("kind", "in_scope")
    if kind not in KINDS:
        raise EvalFileError(f"line {line_no}: \"kind\" must be one of {', '.join(KINDS)}, not {kind!r}")
    lists: dict[str, tuple[str, ...]] = {}
    for key in ("sources", "facts"):
        value = obj.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise EvalFileError(f"line {line_no}: \"{key}\" must be a list of non-empty strings")
        lists[key] = tuple(value)
    if kind == "in_scope" and not lists["sources"]:
        raise EvalFileError(f"line {line_no}: an in_scope question needs at least one entry in \"sources\"")
    lang = obj.get("lang") or language(q)
    if not isinstance(lang, str):
        raise EvalFileError(f"line {line_no}: \"lang\" must be a string such as \"en\" or \"zh\"")
    return EvalItem(line_no, q.strip(), lists["sources"], lists["facts"], kind, lang)


def load_items(path: Path, limit: int | None = None) -> list[EvalItem]:
    """Read and validate the whole file before anything slow starts."""
    try:
        raw = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise EvalFileError(f"no such question file: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise EvalFileError(f"cannot read {path}: {exc}") from None
    try:
        items = [parse_line(line, n) for n, line in enumerate(raw.splitlines(), 1) if line.strip()]
    except EvalFileError as exc:
        raise EvalFileError(f"{path} {exc}") from None
    if not items:
        raise EvalFileError(f"{path} has no questions")
    return items[:limit] if limit else items


# --- scoring one item ----------------------------------------------------------------


@dataclass
class ItemResult:
    item: EvalItem
    rank: int | None  # 1-based rank of the first passage from a right source (top 5), None if absent
    refused: bool
    facts_found: list[str]
    facts_missing: list[str]
    quotes_total: int
    bad_quotes: list[str]  # "[n] source: why"
    markers_ok: bool
    latency_ms: float
    answer: str = ""
    cited: tuple[str, ...] = ()  # the sources the answer cites
    markup: list[str] = field(default_factory=list)  # markup or glued headings found in the answer text
    advert: bool = False  # an advert sentence in the answer or a quote

    @property
    def cited_right(self) -> bool:
        """An in-scope answer citing at least one of the expected sources."""
        return not self.refused and any(s in self.item.sources for s in self.cited)

    @property
    def fact_share(self) -> float | None:
        total = len(self.facts_found) + len(self.facts_missing)
        return len(self.facts_found) / total if total else None

    def to_json(self) -> dict[str, Any]:
        return {
            "line": self.item.line,
            "q": self.item.q,
            "kind": self.item.kind,
            "lang": self.item.lang,
            "rank": self.rank,
            "refused": self.refused,
            "facts_missing": self.facts_missing,
            "bad_quotes": self.bad_quotes,
            "markers_ok": self.markers_ok,
            "latency_ms": round(self.latency_ms, 1),
            "cited": list(self.cited),
            "cited_right": self.cited_right if self.item.kind == "in_scope" else None,
            "markup": self.markup,
            "answer": self.answer,
        }


# What an answer's text must never show: markdown/HTML markup, footnote marks, and headings or
# section numbers glued to the front of a sentence (the section path belongs in the citation).
_MARKUP_CHECKS = (
    ("bold/italic markers", re.compile(r"\*\*|__|(?<![\w*])\*(?=\w)|(?<=\w)\*(?![\w*])")),
    ("heading hashes", re.compile(r"(?m)^\s*#{1,6}\s")),
    ("quote marker", re.compile(r"(?m)^\s*>")),
    ("footnote mark", re.compile(r"\[\^[^\]]*\]")),
    ("link markup", re.compile(r"\]\(|!\[")),
    ("html tag", re.compile(r"</?[A-Za-z][A-Za-z0-9]*(\s[^<>]*)?>")),
    ("glued section number", re.compile(r"(?m)(^|[.。!?！？]\s*|\]\s*)\d+(\.\d+){1,}\.?\s+\S")),
)


def markup_in(text: str) -> list[str]:
    """Names of the markup kinds found in an answer's text ([n] markers are not markup)."""
    return [name for name, rx in _MARKUP_CHECKS if rx.search(text)]


class SourceTexts:
    """Documents by source name, read from the files, for the verbatim-quote check.

    A quote is verbatim when it is in the raw file or, as display text (markup removed, whitespace
    collapsed), in the document's plain text: "**Bold** claim." shown as "Bold claim." still verifies.
    """

    def __init__(self, folders: Iterable[Path]) -> None:
        self.folders = [Path(f) for f in folders]
        self._cache: dict[str, tuple[str, str, str] | None] = {}

    def texts(self, source: str) -> tuple[str, str, str] | None:
        """(raw file text, suffix, plain text) of a source; None if there is no readable file."""
        if source not in self._cache:
            self._cache[source] = self._read(source)
        return self._cache[source]

    def contains(self, source: str, quote: str) -> bool | None:
        """Whether the quote is verbatim in the source; None when the source file is not found."""
        texts = self.texts(source)
        if texts is None:
            return None
        raw, suffix, plain_text = texts
        return quote_in_document(quote, raw, suffix, plain_text=plain_text)

    def _read(self, source: str) -> tuple[str, str, str] | None:
        from knowledge.ingest import SkipFile, load_document, read_text

        for folder in self.folders:
            path = folder / source
            if path.is_file() and path.parent.resolve() == folder.resolve():
                suffix = path.suffix.lower()
                try:
                    if suffix in (".pdf", ".docx"):  # containers: the text their reader found stands for the file
                        doc = load_document(path)
                        return doc.raw, suffix, doc.plain
                    raw = read_text(path)
                except SkipFile:
                    return None
                return raw, suffix, plain(raw, suffix)
        return None


def check_citations(answer: Any, sources: SourceTexts) -> tuple[int, list[str], bool]:
    """(quotes checked, problems, every [n] marker resolvable)."""
    bad: list[str] = []
    for c in answer.citations:
        found = sources.contains(c.source, c.quote) if c.quote.strip() else None
        if sources.texts(c.source) is None:
            bad.append(f"[{c.n}] {c.source}: source file not found")
        elif not c.quote.strip():
            bad.append(f"[{c.n}] {c.source}: empty quote")
        elif not found:
            bad.append(f"[{c.n}] {c.source}: quote not verbatim: {c.quote[:60]!r}")
    known = {c.n for c in answer.citations}
    from .citations import markers as citation_markers  # lazily: it pulls in the retriever (chromadb)

    markers = set(citation_markers(answer.text))
    return len(answer.citations), bad, markers <= known


def find_facts(facts: Sequence[str], answer: Any) -> tuple[list[str], list[str]]:
    """Facts found / missing in the answer text plus its quotes, ignoring case and spacing."""
    hay = _norm(" ".join([answer.text, *(c.quote for c in answer.citations)]))
    found = [f for f in facts if _norm(f) in hay]
    return found, [f for f in facts if f not in found]


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def first_hit(passages: Sequence[Any], sources: Sequence[str]) -> int | None:
    for i, p in enumerate(passages, 1):
        if p.source in sources:
            return i
    return None


def evaluate_item(item: EvalItem, pipeline: Any, kb: Any, mode: str, sources: SourceTexts) -> ItemResult:
    rank = None
    if item.sources:
        rank = first_hit(kb.search(item.q, k=max(KS), mode=mode).passages, item.sources)
    start = time.perf_counter()
    answer = pipeline.answer(item.q)
    latency = (time.perf_counter() - start) * 1000
    found, missing = find_facts(item.facts, answer) if item.kind == "in_scope" else ([], [])
    total, bad, markers_ok = check_citations(answer, sources)
    from knowledge import contains_advert

    cited = tuple(dict.fromkeys(c.source for c in answer.citations))
    advert = contains_advert(answer.text) or any(contains_advert(c.quote) for c in answer.citations)
    markup = [] if answer.refused else markup_in(answer.text)
    return ItemResult(
        item, rank, bool(answer.refused), found, missing, total, bad, markers_ok, latency, answer.text,
        cited, markup, advert,
    )


# --- aggregating ---------------------------------------------------------------------


def percentile(values: Sequence[float], p: float) -> float | None:
    """Linear-interpolated percentile (numpy's default), None for no values."""
    if not values:
        return None
    xs = sorted(values)
    pos = (len(xs) - 1) * p / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def _share(num: int, den: int) -> float | None:
    return num / den if den else None


@dataclass
class Summary:
    items: int
    in_scope: int
    recall: dict[int, float | None]
    facts: float | None
    quotes_ok: int
    quotes_total: int
    markers_ok: float | None
    refusal_accuracy: float | None
    refusals_expected: int
    false_refusals: float | None
    p50_ms: float | None
    p95_ms: float | None
    cited_right: float | None = None  # in-scope answers citing a right source (a refusal counts as a miss)
    false_refusal_count: int = 0
    wrongly_answered: int = 0  # out-of-scope or adversarial questions answered
    with_markup: int = 0  # answers whose text shows markup or a glued heading/number
    adverts: int = 0

    @classmethod
    def of(cls, results: Sequence[ItemResult]) -> Summary:
        ins = [r for r in results if r.item.kind == "in_scope"]
        ranked = [r for r in ins if r.item.sources]
        outs = [r for r in results if r.item.kind != "in_scope"]
        shares = [s for s in (r.fact_share for r in ins) if s is not None]
        answered = [r for r in results if not r.refused]
        lat = [r.latency_ms for r in results]
        return cls(
            items=len(results),
            in_scope=len(ins),
            recall={k: _share(sum(1 for r in ranked if r.rank is not None and r.rank <= k), len(ranked)) for k in KS},
            facts=sum(shares) / len(shares) if shares else None,
            quotes_ok=sum(r.quotes_total - len(r.bad_quotes) for r in results),
            quotes_total=sum(r.quotes_total for r in results),
            markers_ok=_share(sum(1 for r in answered if r.markers_ok), len(answered)),
            refusal_accuracy=_share(sum(1 for r in outs if r.refused), len(outs)),
            refusals_expected=len(outs),
            false_refusals=_share(sum(1 for r in ins if r.refused), len(ins)),
            p50_ms=percentile(lat, 50),
            p95_ms=percentile(lat, 95),
            cited_right=_share(sum(1 for r in ins if r.cited_right), len(ins)),
            false_refusal_count=sum(1 for r in ins if r.refused),
            wrongly_answered=sum(1 for r in outs if not r.refused),
            with_markup=sum(1 for r in answered if r.markup),
            adverts=sum(1 for r in answered if r.advert),
        )

    def to_json(self) -> dict[str, Any]:
        def r(x: float | None, nd: int = 4) -> float | None:
            return None if x is None else round(x, nd)

        return {
            "items": self.items,
            "in_scope": self.in_scope,
            **{f"recall@{k}": r(v) for k, v in self.recall.items()},
            "facts": r(self.facts),
            "quotes_verbatim": r(_share(self.quotes_ok, self.quotes_total)),
            "quotes_ok": self.quotes_ok,
            "quotes_total": self.quotes_total,
            "markers_ok": r(self.markers_ok),
            "refusal_accuracy": r(self.refusal_accuracy),
            "refusals_expected": self.refusals_expected,
            "false_refusals": r(self.false_refusals),
            "p50_ms": r(self.p50_ms, 1),
            "p95_ms": r(self.p95_ms, 1),
            "cited_right": r(self.cited_right),
            "false_refusal_count": self.false_refusal_count,
            "wrongly_answered": self.wrongly_answered,
            "with_markup": self.with_markup,
            "adverts": self.adverts,
        }


TABLE_HEADER = (
    "| lang | items | R@1 | R@5 | right source cited | facts | false refusals | out-of-scope answered "
    "| markup | adverts | quotes verbatim | markers ok | p50 ms | p95 ms |\n"
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
)


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.0f}%"


def _ms(x: float | None) -> str:
    return "—" if x is None else f"{x:.0f}"


@dataclass
class EvalReport:
    mode: str
    answer_mode: str
    results: list[ItemResult] = field(default_factory=list)

    @property
    def languages(self) -> list[str]:
        return sorted({r.item.lang for r in self.results})

    def summary(self, lang: str | None = None) -> Summary:
        return Summary.of([r for r in self.results if lang is None or r.item.lang == lang])

    def row(self, label: str, s: Summary) -> str:
        quotes = f"{s.quotes_ok}/{s.quotes_total}" if s.quotes_total else "—"
        return (
            f"| {label} | {s.items} | {_pct(s.recall[1])} | {_pct(s.recall[5])} | {_pct(s.cited_right)} "
            f"| {_pct(s.facts)} | {s.false_refusal_count}/{s.in_scope} "
            f"| {s.wrongly_answered}/{s.refusals_expected} | {s.with_markup} | {s.adverts} | {quotes} "
            f"| {_pct(s.markers_ok)} | {_ms(s.p50_ms)} | {_ms(s.p95_ms)} |"
        )

    def table(self) -> str:
        rows = [self.row(lang, self.summary(lang)) for lang in self.languages]
        rows.append(self.row("all", self.summary()))
        return "\n".join([TABLE_HEADER, *rows])

    def misses(self, limit: int = 10) -> list[str]:
        """Short lines for the questions that went wrong, to look at first."""
        out: list[str] = []
        for r in self.results:
            why: list[str] = []
            if r.item.kind == "in_scope":
                if r.item.sources and (r.rank is None or r.rank > 1):
                    why.append("right source not in top 5" if r.rank is None else f"right source at rank {r.rank}")
                if r.refused:
                    why.append("refused")
                elif not r.cited_right:
                    why.append(f"cites {', '.join(r.cited) or 'nothing'}")
                elif r.facts_missing:
                    why.append(f"missing facts {', '.join(r.facts_missing)}")
            elif not r.refused:
                why.append(f"answered a {r.item.kind.replace('_', '-')} question")
            why += r.bad_quotes
            if r.markup:
                why.append(f"markup: {', '.join(r.markup)}")
            if not r.markers_ok:
                why.append("unresolvable [n] marker")
            if why:
                out.append(f"line {r.item.line}: {r.item.q[:60]} — {'; '.join(why)}")
        return out[:limit] if limit else out

    def to_json(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "answer_mode": self.answer_mode,
            "overall": self.summary().to_json(),
            "by_language": {lang: self.summary(lang).to_json() for lang in self.languages},
            "items": [r.to_json() for r in self.results],
        }


class _ModeKnowledge:
    """A KnowledgeBase that always searches with one retrieval mode (for whole-bot comparisons)."""

    def __init__(self, kb: Any, mode: str) -> None:
        self._kb = kb
        self._mode = mode

    def search(self, query: str, k: int = 5, mode: str = "hybrid") -> Any:
        return self._kb.search(query, k=k, mode=self._mode)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._kb, name)


def run_eval(
    items: Sequence[EvalItem],
    settings: Any,
    *,
    kb: Any,
    mode: str = "hybrid",
    progress: Callable[[int, int], None] | None = None,
) -> EvalReport:
    """Answer every item with a pipeline built on ``kb`` pinned to ``mode`` and score it."""
    from .pipeline import build_pipeline

    if mode not in MODES:
        raise EvalFileError(f"unknown retrieval mode {mode!r}")
    pinned: Any = kb if mode == "hybrid" else _ModeKnowledge(kb, mode)
    pipeline = build_pipeline(settings, kb=pinned)
    sources = SourceTexts([settings.seeds_dir, *_roots(kb)])
    report = EvalReport(mode=mode, answer_mode="llm" if settings.llm_enabled else "extractive")
    kb.search("warm-up", k=1, mode=mode)  # load the model and the BM25 index outside the timings
    for n, item in enumerate(items, 1):
        report.results.append(evaluate_item(item, pipeline, kb, mode, sources))
        if progress:
            progress(n, len(items))
    return report


def _roots(kb: KnowledgeBase) -> list[Path]:
    """Folders the store's documents were ingested from (beyond the seeds folder)."""
    try:
        roots = {str(c.metadata.get("root", "")) for c in kb.chunks()}
    except Exception:  # a store that cannot list chunks: quotes are checked against seeds only
        return []
    return [Path(r) for r in sorted(roots) if r]
