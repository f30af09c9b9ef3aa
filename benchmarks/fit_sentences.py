"""Fit the offline writer's sentence score (bot/data/sentence_model.json) on more than one corpus.

    python benchmarks/fit_sentences.py [--work DIR] [--fit seeds,dev-fit] [--dry-run]
    python benchmarks/fit_sentences.py --units [--fit seeds,dev-fit,seeds-near,dev-near,fitcorpus,…] [--dry-run]

For every in-scope question of the fit corpora (benchmarks/corpora.py: the seeds and the fit half of the
dev corpus; never dev-report, the project's test corpus, benchmarks/data/heldout, heldout2, heldout3 or the
report-only seeds-heldout set, which ``fit_corpora`` refuses) the pipeline retrieves and scores
the offline writer's candidate sentences as it does when answering. A sentence is a positive example when it holds
one of the facts the answer must contain and comes from a document that answers the question. The score is
a pairwise logistic model (each positive against each negative of the same question): only the order of
one question's sentences matters, so there is no bias to fit. Each corpus is also fitted alone and
measured on the other, and those cross figures are written into the file's notes next to the old
hand-weighted score's.

``--units`` chooses, without refitting the weights, how the writer weighs a unit's (document's, or FAQ answer's)
share of retrieval when it picks the answer's first unit and lets another unit join (``unit_share_weight``,
``unit_join_weight``): a grid searched on the writer's answers to the fit corpora's answered in-scope questions
(right source cited + share of facts; a point that makes any corpus worse on either is not taken), with each
corpus's figures from the grid point chosen on the others.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from benchmarks.corpora import fit_corpora, open_corpus  # noqa: E402
from bot.answerability import fit  # noqa: E402
from bot.evaluation import find_facts  # noqa: E402
from bot.extractive import SENTENCE_MODEL, sentence_model  # noqa: E402
from bot.pipeline import build_pipeline  # noqa: E402

Question = tuple[list[dict[str, float]], list[int], list[float], list[str], tuple[str, ...]]
MAX_PAIRS = 200  # per question, so long passages do not outweigh short ones


def collect(names: list[str], work: Path) -> dict[str, list[Question]]:
    """Corpus -> questions, each: candidate features, labels, old scores, texts, expected facts."""
    out: dict[str, list[Question]] = {}
    for corpus in fit_corpora(names):  # raises on a report-only corpus (seeds-heldout)
        settings, kb = open_corpus(corpus, work)
        pipeline = build_pipeline(settings, kb=kb)
        rows: list[Question] = []
        for item in corpus.items:
            if item.kind != "in_scope" or not item.facts:
                continue
            asked = pipeline._intake(item.q, [], None)
            cands = pipeline.writer_candidates(asked, pipeline.retrieve(asked))  # what the writer chooses from
            texts = [f"{c.shown} {c.quote}".lower() for c in cands]
            labels = [
                int(c.passage.source in item.sources and any(f.lower() in t for f in item.facts))
                for c, t in zip(cands, texts, strict=True)
            ]
            if any(labels) and not all(labels):
                rows.append(([c.features for c in cands], labels, [c.score for c in cands], texts,
                             tuple(f.lower() for f in item.facts)))
        out[corpus.name] = rows
    return out


def pairs(questions: list[Question], names: list[str]) -> tuple[list[list[float]], list[int]]:
    x: list[list[float]] = []
    y: list[int] = []
    for feats, labels, _, _, _ in questions:
        pos = [i for i, v in enumerate(labels) if v]
        neg = [i for i, v in enumerate(labels) if not v]
        step = max(1, len(pos) * len(neg) // MAX_PAIRS)
        for n, (i, j) in enumerate((i, j) for i in pos for j in neg):
            if n % step:
                continue
            d = [feats[i].get(k, 0.0) - feats[j].get(k, 0.0) for k in names]
            x += [d, [-v for v in d]]
            y += [1, 0]
    return x, y


def measure(questions: list[Question], score: Any) -> dict[str, float]:
    """top-1: the best sentence holds a fact; facts@4: share of expected facts in the best four."""
    top1 = facts4 = 0.0
    for feats, labels, old, texts, facts in questions:
        scores = [score(f, o) for f, o in zip(feats, old, strict=True)]
        order = sorted(range(len(scores)), key=lambda i: -scores[i])
        top1 += labels[order[0]]
        hay = " ".join(texts[i] for i in order[:4])
        facts4 += sum(1 for f in facts if f in hay) / len(facts)
    n = max(1, len(questions))
    return {"top1": round(top1 / n, 3), "facts@4": round(facts4 / n, 3), "questions": len(questions)}


def kfold(data: dict[str, list[Question]], features: list[str], l2: float, k: int = 6) -> dict[str, Any]:
    """Every question scored by a model fitted without it (questions of all fit corpora pooled, k folds)."""
    tagged = [(name, q) for name, qs in data.items() for q in qs]
    held: dict[str, list[tuple[Question, Any]]] = {name: [] for name in data}
    for fold in range(k):
        train = [q for i, (_, q) in enumerate(tagged) if i % k != fold]
        w, _ = fit(*pairs(train, features), l2=l2)
        score = linear(dict(zip(features, w, strict=True)))
        for i, (name, q) in enumerate(tagged):
            if i % k == fold:
                held[name].append((q, score))
    out: dict[str, Any] = {}
    for name, rows in held.items():
        learned = [measure([q], score) for q, score in rows]
        old = [measure([q], lambda _f, o: o) for q, _ in rows]
        n = max(1, len(rows))
        out[name] = {
            "learned facts@4": round(sum(m["facts@4"] for m in learned) / n, 3),
            "old score facts@4": round(sum(m["facts@4"] for m in old) / n, 3),
            "questions": len(rows),
        }
    return out


def linear(weights: dict[str, float]) -> Any:
    return lambda f, _old: sum(w * f.get(k, 0.0) for k, w in weights.items())


UNIT_GRID = [(w, j) for w in (0.0, 0.25, 0.5, 0.75, 1.0) for j in (0.0, 0.25, 0.5, 0.75, 1.0, 2.0)]
ANCHOR_GRID = (math.inf, 2.0, 1.5, 1.0, 0.75, 0.5, 0.25, 0.0)


def unit_answers(names: list[str], work: Path) -> dict[str, Any]:
    """Corpus -> (pipeline, [(item, asked, found, candidates)]) for the answered in-scope questions."""
    out: dict[str, Any] = {}
    for corpus in fit_corpora(names):
        settings, kb = open_corpus(corpus, work)
        pipeline = build_pipeline(settings, kb=kb)
        rows = []
        for item in corpus.items:
            if item.kind != "in_scope" or not item.sources:
                continue
            asked = pipeline._intake(item.q, [], None)
            found = pipeline.retrieve(asked)
            if found.candidates and pipeline.decide(asked, found).answer:
                rows.append((item, asked, found, pipeline.writer_candidates(asked, found)))
        out[corpus.name] = (pipeline, rows)
    return out


def unit_figures(data: dict[str, Any], share_weight: float, join_weight: float,
                 anchor_margin: float = math.inf) -> dict[str, dict[str, float]]:
    """Corpus -> right source cited and facts found by the writer's answers with these unit weights."""
    model = replace(sentence_model(), unit_share_weight=share_weight, unit_join_weight=join_weight,
                    anchor_margin=anchor_margin)
    out: dict[str, dict[str, float]] = {}
    for name, (pipeline, rows) in data.items():
        right = facts = 0.0
        for item, asked, found, cands in rows:
            picked = pipeline.extractive.select(cands, model, retrieved=found.passages)
            picked = pipeline._with_subsections(asked, picked) or picked
            draft = pipeline.extractive.compose(asked.question, picked, 0.0, pipeline._positions_for(found.passages))
            right += any(c.source in item.sources for c in draft.citations)
            if item.facts:
                hit, _ = find_facts(item.facts, draft)
                facts += len(hit) / len(item.facts)
        n = max(1, len(rows))
        out[name] = {"right source": round(right / n, 3), "facts": round(facts / n, 3), "questions": len(rows)}
    return out


def _choose(grid: dict[Any, dict[str, dict[str, float]]], names: list[str], none: Any,
            cost: Callable[[Any], float]) -> tuple[Any, dict[str, Any]]:
    """The grid point best on all fit corpora against ``none`` (the point that changes nothing), and each corpus's
    figures from the choice made without it: no corpus worse on either figure first, then the most gained, then the
    point of least ``cost`` (closest to changing nothing)."""

    def gain(point: Any, corpora: list[str]) -> tuple[bool, float, float]:
        harmless = all(grid[point][c][k] >= grid[none][c][k] for c in corpora for k in ("right source", "facts"))
        total = sum(grid[point][c]["questions"] * (grid[point][c]["right source"] + grid[point][c]["facts"])
                    for c in corpora)
        return harmless, round(total, 6), -cost(point)

    notes: dict[str, Any] = {"fitted_on": names, "grid": list(grid), "leave one corpus out": {}}
    for held in names:
        point = max(grid, key=lambda p: gain(p, [c for c in names if c != held]))
        notes["leave one corpus out"][held] = {"chosen without it": point, "before": grid[none][held],
                                               "after": grid[point][held]}
    chosen = max(grid, key=lambda p: gain(p, names))
    notes["in-sample"] = {"before": grid[none], "after": grid[chosen]}
    return chosen, notes


def choose_units(names: list[str], work: Path) -> tuple[tuple[float, float, float], dict[str, Any]]:
    """The unit weights, then the anchor margin, best on all fit corpora (see ``_choose``)."""
    data = unit_answers(names, work)
    grid = {point: unit_figures(data, *point) for point in UNIT_GRID}
    (share, join), notes = _choose(grid, names, (0.0, 0.0), sum)
    # The anchor margin: how far above every sentence sharing a word with the question one that shares none must be
    # valued to compete (infinity: never). A paraphrase ("still sharing details" for "less open") shares no word.
    anchors = {m: unit_figures(data, share, join, m) for m in ANCHOR_GRID}
    anchor, anchor_notes = _choose(anchors, names, math.inf, lambda m: -min(m, 1e9))
    never = {"chosen without it": "never"}
    notes["anchor margin"] = {
        "grid": [m if math.isfinite(m) else "never" for m in ANCHOR_GRID],
        "leave one corpus out": {c: {**v, **(never if not math.isfinite(v["chosen without it"]) else {})}
                                 for c, v in anchor_notes["leave one corpus out"].items()},
        "in-sample": anchor_notes["in-sample"],
    }
    return (share, join, anchor), notes


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "careerbot-bench-corpora")
    ap.add_argument("--fit", default="seeds,dev-fit")
    ap.add_argument("--l2", type=float, default=300.0)
    ap.add_argument("--margin", type=float, default=2.0)
    ap.add_argument("--other-source-margin", type=float, default=1.0)
    ap.add_argument("--follow-bonus", type=float, default=1.25)
    ap.add_argument("--dry-run", action="store_true", help="print, do not write the data file")
    ap.add_argument("--units", action="store_true", help="choose the unit weights only (see the module's doc)")
    args = ap.parse_args()
    names = args.fit.split(",")
    current = json.loads(SENTENCE_MODEL.read_text(encoding="utf-8")) if SENTENCE_MODEL.is_file() else {}
    if args.units:
        (share, join, anchor), unit_notes = choose_units(names, args.work)
        current.update({"unit_share_weight": share, "unit_join_weight": join})
        current.pop("anchor_margin", None)
        if math.isfinite(anchor):  # absent: infinite (JSON has no infinity)
            current["anchor_margin"] = anchor
        current.setdefault("notes", {})["units"] = unit_notes
        print(json.dumps(current, indent=1))
        if not args.dry_run:
            SENTENCE_MODEL.write_text(json.dumps(current, indent=1) + "\n", encoding="utf-8")
        return
    data = collect(names, args.work)
    features = sorted({k for qs in data.values() for q in qs for f in q[0] for k in f})
    notes: dict[str, Any] = {"features": features, "cross": {}}
    if "units" in current.get("notes", {}):
        notes["units"] = current["notes"]["units"]  # chosen by --units, kept
    for held in names:
        train = [q for name, qs in data.items() if name != held for q in qs]
        if not train:
            continue
        w, _ = fit(*pairs(train, features), l2=args.l2)
        weights = dict(zip(features, w, strict=True))
        notes["cross"][f"fitted without {held}, measured on {held}"] = {
            "learned": measure(data[held], linear(weights)),
            "old score": measure(data[held], lambda _f, old: old),
        }
    notes["6-fold"] = kfold(data, features, args.l2)
    every = [q for qs in data.values() for q in qs]
    w, _ = fit(*pairs(every, features), l2=args.l2)
    weights = {k: round(v, 4) for k, v in zip(features, w, strict=True)}
    notes["in-sample"] = {"learned": measure(every, linear(weights)), "old score": measure(every, lambda _f, o: o)}
    # The selection margins (value units) were chosen on the fit corpora's answers with
    # benchmarks/answer_quality.py --only seeds,dev-fit: facts and right source against answer length.
    model = {"weights": weights, "bias": 0.0, "margin": args.margin, "other_source_margin": args.other_source_margin,
             "follow_bonus": args.follow_bonus, "fitted_on": names, "notes": notes,
             **{k: current[k] for k in ("unit_share_weight", "unit_join_weight", "anchor_margin") if k in current}}
    print(json.dumps(model, indent=1))
    if not args.dry_run:
        SENTENCE_MODEL.write_text(json.dumps(model, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
