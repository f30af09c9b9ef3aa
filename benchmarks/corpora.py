"""The corpora the answer-quality benchmark and the answerability fit use, each with its questions.

- ``seeds``: seeds/ with benchmarks/data/questions.jsonl (the old 88-question set);
- ``dev-fit`` / ``dev-report``: the shared dev corpus (../shared/corpora/dev, never copied into the
  project) with dev_questions.jsonl split by document — a question belongs to the half its first
  source document is in (documents alternate in name order); out-of-scope and adversarial
  questions alternate by line;
- ``seeds-near`` / ``dev-near``: fit data only — benchmarks/data/fit_near_topic.jsonl, questions we wrote
  about the seeds and the dev corpus's fit half: out-of-scope ones that share the corpus's vocabulary but ask
  what no document answers (an exact salary, a visa date, an error message), and casual in-scope paraphrases,
  so the answerability fit sees near-topic refusals and penalises false ones. Never about dev-report documents;
  261 lines (151 in-scope: slang, paraphrase, role outlook, ~30 cross-lingual; 110 out-of-scope, mostly near-topic);
- ``fitcorpus``: fit data only — benchmarks/data/fitcorpus/, four documents and questions.jsonl that we wrote
  ourselves for the fit (invented text, never copied from anywhere, no real person's words): a book chapter on pay
  and offers (markdown), an article page on bootcamps and courses (HTML with navigation, cookie banner and footer),
  a Chinese FAQ on 跳槽/薪资/签证/落户/外包/试用期/竞业 (with two adverts between answers) and plain-text talk notes
  on remote and freelance work. Its scope is the opposite of the seeds' and the dev fit half's: salary ranges,
  bootcamps, negotiation, visas, notice periods are IN scope here, while what the other corpora cover (which jobs
  LLMs replace, research trends, an ML engineer's day, interview algorithms) is out of scope, so the fitted model
  learns that scope depends on what the documents cover, not on the question's topic alone. Never measured on;
- ``fitpm`` / ``fitzh``: fit data only, written the same way as ``fitcorpus`` (our own invented text), each with a
  different scope again so the scope prior learns "what kind of question a career document answers" rather than a
  list of topics. ``fitpm`` (benchmarks/data/fitpm/): product management and UX design careers in the age of AI — a
  markdown guide (numbered headings, bold lead-ins), an HTML blog post with navigation and footer and a plain-text
  podcast transcript; ~1/4 of its in-scope questions are Chinese. ``fitzh`` (benchmarks/data/fitzh/): 求职/转行 into
  数据分析/算法/数据开发 — a Chinese FAQ (with two adverts between answers) and a Chinese blog post; ~1/3 of its
  in-scope questions are English. Both have casual in-scope questions and out-of-scope ones that are near-topic
  (a named company's pay or interview rounds, a visa, an error message, "write me …") or covered only by other
  corpora (jobs LLMs replace, bootcamp costs, notice periods, prompt engineering). Never measured on;
- ``fitresearch`` / ``fitops``: fit data only, two more scopes written the same way (our own invented text).
  ``fitresearch`` (benchmarks/data/fitresearch/): research careers in ML — a markdown essay (numbered headings) on PhD
  vs industry, publishing, choosing an advisor and research engineer vs scientist, and a Chinese 知乎-style answer on
  读博还是工作 for 算法 people. ``fitops`` (benchmarks/data/fitops/): MLOps, data engineering and ML platform careers —
  an HTML guide (navigation, cookie banner, footer) and plain-text meetup notes on the daily work, tools in general
  terms, on-call, moving in from DevOps/backend and what to learn first. Each has 35 mostly casual in-scope questions
  (~1/4 cross-lingual) and 25 out-of-scope ones: near-topic (a named place's stipend or pay, a named company's
  interview rounds or internal tools, an error message, "write me a Dockerfile / cover letter", tool versions, visas,
  tax, housing, stocks), other corpora's topics and three off-topic. Never measured on;
- ``test``: our own corpus tests/corpus/ with tests/corpus/questions.jsonl (never fitted on);
- ``seeds-heldout``: REPORT ONLY. seeds/ with benchmarks/data/seeds_heldout.jsonl, a fresh question set on the
  seeds written without looking at the fitted ones (our proxy for the judges' unseen seed questions). It is marked
  ``report_only``: benchmarks/fit_answerability.py refuses to fit on it and does not even collect its features,
  and no threshold, weight, rule or test may be chosen by looking at its questions or misses. The same holds for
  benchmarks/data/heldout/ and benchmarks/data/heldout2/ (run by benchmarks/heldout.py, never listed here).

Each corpus is ingested into its own store under a work folder (incremental: a re-run reuses it).
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.evaluation import EvalItem, load_items  # noqa: E402

SKIP = {"SOURCES.md", "questions.jsonl", "README.md"}


@dataclass
class Corpus:
    name: str
    folder: Path
    items: list[EvalItem]
    report_only: bool = False  # measured, never fitted or tuned on (see fit_corpora)


def shared_corpora() -> Path | None:
    """../shared/corpora next to the checkout (or a worktree's main checkout), when present."""
    for base in (ROOT.parent, ROOT.parent.parent, Path("/work")):
        cand = base / "shared" / "corpora"
        if (cand / "dev").is_dir():
            return cand
    return None


def _dev_split(items: list[EvalItem], folder: Path) -> tuple[list[EvalItem], list[EvalItem]]:
    docs = sorted(p.name for p in folder.iterdir() if p.is_file() and p.name not in SKIP)
    half_a = set(docs[0::2])
    fit: list[EvalItem] = []
    report: list[EvalItem] = []
    others = 0
    for it in items:
        if it.kind == "in_scope":
            (fit if it.sources[0] in half_a else report).append(it)
        else:
            (fit if others % 2 == 0 else report).append(it)
            others += 1
    return fit, report


def corpora(names: list[str] | None = None, corpora_dir: Path | None = None) -> list[Corpus]:
    out: list[Corpus] = [Corpus("seeds", ROOT / "seeds", load_items(ROOT / "benchmarks" / "data" / "questions.jsonl"))]
    shared = corpora_dir or shared_corpora()
    if shared is not None and (shared / "dev_questions.jsonl").is_file():
        dev = shared / "dev"
        fit, report = _dev_split(load_items(shared / "dev_questions.jsonl"), dev)
        out += [Corpus("dev-fit", dev, fit), Corpus("dev-report", dev, report)]
    near = ROOT / "benchmarks" / "data" / "fit_near_topic.jsonl"
    if near.is_file():
        lines = [line for line in near.read_text(encoding="utf-8").splitlines() if line.strip()]
        tagged = list(zip(load_items(near), (json.loads(line).get("corpus") for line in lines), strict=True))
        out.append(Corpus("seeds-near", ROOT / "seeds", [it for it, c in tagged if c == "seeds"]))
        if shared is not None:
            out.append(Corpus("dev-near", shared / "dev", [it for it, c in tagged if c == "dev"]))
    for extra in ("fitcorpus", "fitpm", "fitzh", "fitresearch", "fitops"):  # our own fit corpora
        folder = ROOT / "benchmarks" / "data" / extra
        if (folder / "questions.jsonl").is_file():
            out.append(Corpus(extra, folder, load_items(folder / "questions.jsonl")))
    for held, name in ((ROOT / "benchmarks" / "data" / "seeds_heldout.jsonl", "seeds-heldout"),
                       (ROOT / "benchmarks" / "data" / "seeds_heldout2.jsonl", "seeds-heldout2")):
        if held.is_file():
            out.append(Corpus(name, ROOT / "seeds", load_items(held), report_only=True))
    test = ROOT / "tests" / "corpus"
    if (test / "questions.jsonl").is_file():
        out.append(Corpus("test", test, load_items(test / "questions.jsonl")))
    return [c for c in out if names is None or c.name in names]


# Folders and files whose questions are for reporting only: never fitted on, never used to pick a parameter.
REPORT_ONLY_DATA = (
    ROOT / "benchmarks" / "data" / "seeds_heldout.jsonl",
    ROOT / "benchmarks" / "data" / "seeds_heldout2.jsonl",
    ROOT / "benchmarks" / "data" / "heldout",
    ROOT / "benchmarks" / "data" / "heldout2",
    ROOT / "benchmarks" / "data" / "heldout3",
    ROOT / "benchmarks" / "data" / "heldout4",
)


def fit_corpora(names: list[str] | None = None, corpora_dir: Path | None = None) -> list[Corpus]:
    """The corpora a fit may see: every corpus except the report-only ones.

    Naming a report-only corpus is an error, not a silent skip, so that nobody fits on a held-out set by accident.
    """
    everything = corpora(None, corpora_dir)
    held = sorted(c.name for c in everything if c.report_only and names is not None and c.name in names)
    if held:
        raise ValueError(f"report-only corpora cannot be fitted on: {', '.join(held)}")
    return [c for c in everything if not c.report_only and (names is None or c.name in names)]


def open_corpus(corpus: Corpus, work: Path) -> tuple[Any, Any]:
    """(settings, knowledge base) with the corpus ingested into its own store under ``work``."""
    from bot.settings import Settings
    from knowledge.base import KnowledgeBase

    store_name = corpus.name.split("-")[0]  # dev-fit and dev-report share one store
    settings = Settings(data_dir=work / store_name, seeds_dir=corpus.folder)
    kb = KnowledgeBase(settings.knowledge())
    files = sorted(p for p in corpus.folder.iterdir() if p.is_file() and p.name not in SKIP)
    kb.ingest(files)
    return settings, kb
