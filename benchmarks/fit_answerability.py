"""Fit the answerability model (bot/answerability.py) and write bot/data/answerability.json.

    python benchmarks/fit_answerability.py [--work DIR] [--dry-run]
        [--fit seeds,dev-fit,seeds-near,dev-near,fitcorpus,fitpm,fitzh]

Labels: in-scope questions 1, out-of-scope 0 (adversarial ones are refused by the guards first and
are left out). Features come from ``Pipeline.evidence`` on each corpus's own store. The model is
fitted on the ``--fit`` corpora: by default the seeds, the dev corpus's fit half and the near-topic fit
questions about both (benchmarks/data/fit_near_topic.jsonl: near-topic out-of-scope ones, casual and
cross-lingual in-scope ones), and ``fitcorpus`` (benchmarks/data/fitcorpus/, our own documents whose scope is the
other corpora's out-of-scope: pay, bootcamps, visas, notice periods — so that what is in scope is learned to depend on
the documents, not on the topic), and ``fitpm``/``fitzh`` (benchmarks/data/fitpm/, fitzh/: our own documents on product
management/UX careers and on 求职/转行 into data roles), three more scopes for the same purpose.
``fitresearch``/``fitops`` (benchmarks/data/fitresearch/, fitops/: research careers in ML, and MLOps/data engineering/
ML platform careers) are written the same way but are not in the default list: adding them lowered the
leave-one-out cost on the seven default sets only by about one standard error (116 -> 106, 2026-12-01) and the refit
refused one more of our own corpus's questions (tests/test_answer_quality.py's bar), so the shipped model is the
seven-set fit. Pass ``--fit`` with them to try.
The threshold is the one with the lowest cost (false refusals + 2 x
out-of-scope answered) on questions the model did not see (leave one corpus out, below).

Two models are fitted, stacked: the scope prior (``answerability.Prior``, a logistic model on the question's
embedding alone) and the answerability model over the evidence features with the prior's logit as one more
feature. A fitted corpus's rows carry the prior fitted on the *other* fit corpora (out of fold), so the second
model learns how far to trust the prior on questions it has not seen. Both L2 penalties and the threshold are chosen
together from a grid by the leave-one-corpus-out cost (fit both models on all but one fit corpus, predict that one;
the cost over all fit corpora's predictions), which is printed and recorded; among the settings within one standard
error of the lowest cost, the threshold nearest 0.5 and the strongest penalties are taken. The figures on every
other corpus (questions it was not fitted on) are written next to the coefficients and printed.

Report-only sets are never seen here: ``seeds-heldout`` (benchmarks/data/seeds_heldout.jsonl) and the corpora of
benchmarks/heldout.py (benchmarks/data/heldout/, heldout2/, heldout3/). ``collect`` goes through
``benchmarks.corpora.fit_corpora``, which leaves them out and raises if ``--fit`` names one. Do not add them, and do
not pick ``--l2``/``--threshold`` by looking at their figures: they are our proxy for the judges' unseen questions.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

import numpy as np  # noqa: E402

from benchmarks.corpora import fit_corpora, open_corpus  # noqa: E402
from bot import answerability  # noqa: E402
from bot.answerability import FEATURES, Evidence, Model, Prior  # noqa: E402
from bot.guards import check_question  # noqa: E402
from bot.pipeline import build_pipeline  # noqa: E402
from knowledge.text import language  # noqa: E402

Row = tuple[list[float], int, str, list[float]]  # features, label, question, question embedding


def collect(names: list[str] | None, work: Path) -> dict[str, list[Row]]:
    rows: dict[str, list[Row]] = {}
    for corpus in fit_corpora(names):  # never a report-only corpus
        settings, kb = open_corpus(corpus, work)
        pipeline = build_pipeline(settings, kb=kb)
        out: list[Row] = []
        for item in corpus.items:
            if item.kind == "adversarial" or check_question(item.q) is not None:
                continue  # the guards refuse these before the model is asked (bot/guards.py)
            d = pipeline.evidence(item.q)
            qvec = [round(float(x), 6) for x in pipeline.vectors.query(item.q)]
            out.append((d.evidence.vector(), 1 if item.kind == "in_scope" else 0, item.q, qvec))
        pipeline.vectors.save()
        rows[corpus.name] = out
        print(f"{corpus.name}: {len(out)} questions", file=sys.stderr)
    return rows


PRIOR_COLUMN = FEATURES.index("scope_prior")


def fit_prior(train: list[Row], l2: float) -> Prior:
    """The scope prior: a logistic model on the question embeddings alone, each centred on the mean embedding of
    the training questions in its language (``answerability.Prior``)."""
    langs = [language(r[2]) for r in train]
    vecs = np.asarray([r[3] for r in train], dtype=np.float64)
    centres = {lang: vecs[[i for i, g in enumerate(langs) if g == lang]].mean(axis=0) for lang in set(langs)}
    centred = vecs - np.asarray([centres[g] for g in langs])
    weights, bias = answerability.fit(centred.tolist(), [r[1] for r in train], l2=l2)
    w = np.asarray(weights)
    return Prior(tuple(weights), bias, l2, tuple((g, -float(w @ c)) for g, c in sorted(centres.items())))


def with_prior(rows: dict[str, list[Row]], train: list[str], l2: float) -> tuple[dict[str, list[Row]], Prior]:
    """Every row with its ``scope_prior`` column filled in, stacked honestly: a row of a training corpus gets the
    prior fitted on the *other* training corpora (out of fold), so the answerability model never learns to trust a
    prior that has seen the question; every other row gets the prior fitted on all of ``train``."""
    final = fit_prior([r for n in train for r in rows.get(n, [])], l2)
    folds = {n: fit_prior([r for m in train if m != n for r in rows.get(m, [])], l2) for n in train}

    def put(r: Row, prior: Prior) -> Row:
        x = list(r[0])
        x[PRIOR_COLUMN] = prior.logit(r[3], language(r[2]))
        return (x, r[1], r[2], r[3])

    return {n: [put(r, folds.get(n, final)) for r in rs] for n, rs in rows.items()}, final


def figures(model: Model, rows: list[Row]) -> dict[str, object]:
    inside = [r for r in rows if r[1] == 1]
    outside = [r for r in rows if r[1] == 0]

    def p(r: Row) -> float:
        return model.probability(Evidence(dict(zip(FEATURES, r[0], strict=True))))

    return {
        "in_scope": len(inside),
        "false_refusals": sum(1 for r in inside if p(r) < model.threshold),
        "out_of_scope": len(outside),
        "answered_out_of_scope": sum(1 for r in outside if p(r) >= model.threshold),
        "refused_in_scope": [r[2] for r in inside if p(r) < model.threshold],
        "answered_out": [r[2] for r in outside if p(r) >= model.threshold],
    }


L2_GRID = (1.0, 3.0, 10.0, 30.0, 100.0)
PRIOR_L2_GRID = (10.0, 30.0, 100.0)
THRESHOLDS = [round(0.3 + 0.05 * i, 2) for i in range(11)]


def fit_model(train: list[Row], names: list[str], l2: float, threshold: float) -> Model:
    """The logistic model on these rows, answering at ``threshold``."""
    weights, bias = answerability.fit([r[0] for r in train], [r[1] for r in train], l2=l2)
    w = dict(zip(FEATURES, weights, strict=True))
    return Model(w, bias, threshold=threshold, borderline=round(threshold * 0.6, 3), fitted_on=tuple(names))


def left_out_stacks(rows: dict[str, list[Row]], names: list[str], prior_l2: float) -> dict[str, dict[str, list[Row]]]:
    """For each fit corpus left out, every fit corpus's rows with the prior stacked on the others (``with_prior``).
    The prior does not depend on the answerability model's penalty, so this is made once per prior penalty."""
    fit_rows = {n: rows.get(n, []) for n in names}
    return {out: with_prior(fit_rows, [n for n in names if n != out], prior_l2)[0] for out in names}


def held_out_probabilities(stacks: dict[str, dict[str, list[Row]]], l2: float) -> dict[str, list[tuple[float, int]]]:
    """Leave one corpus out: fit the model on the other fit corpora's stacked rows, predict the one left out.

    Returns, per fit corpus, (p(answerable), label) for each of its rows, predicted by a model that never saw it."""
    out_rows: dict[str, list[tuple[float, int]]] = {}
    for out, stacked in stacks.items():
        rest = [n for n in stacks if n != out]
        model = fit_model([r for n in rest for r in stacked[n]], rest, l2, threshold=0.5)
        out_rows[out] = [(model.probability(Evidence(dict(zip(FEATURES, r[0], strict=True)))), r[1])
                         for r in stacked[out]]
    return out_rows


def errors(predicted: list[tuple[float, int]], threshold: float) -> tuple[int, int]:
    """(false refusals, out-of-scope answered) at this threshold."""
    return (sum(1 for p, y in predicted if y == 1 and p < threshold),
            sum(1 for p, y in predicted if y == 0 and p >= threshold))


def threshold_cost(predicted: list[tuple[float, int]], threshold: float) -> float:
    """What a fit is judged by: false refusals + 2 x out-of-scope answered at this threshold."""
    refused, answered = errors(predicted, threshold)
    return float(refused + 2 * answered)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "careerbot-bench-corpora")
    ap.add_argument("--fit", default="seeds,dev-fit,seeds-near,dev-near,fitcorpus,fitpm,fitzh")
    ap.add_argument("--l2", type=float, default=0.0,
                    help="L2 penalty of the answerability model; 0 (default): chosen from a grid with the prior's "
                         "penalty and the threshold (leave-one-corpus-out cost, one-standard-error rule)")
    ap.add_argument("--prior-l2", type=float, default=0.0,
                    help="L2 penalty of the scope prior; 0 (default): chosen with --l2")
    ap.add_argument("--threshold", type=float, default=None,
                    help="decision threshold; default: chosen with --l2")
    ap.add_argument("--dry-run", action="store_true", help="print, do not write the data file")
    ap.add_argument("--reuse", action="store_true", help="reuse the features of the last run (work/features.json)")
    args = ap.parse_args()
    fit_names = args.fit.split(",")
    fit_corpora(fit_names)  # raises on a report-only corpus (seeds-heldout): those are never fitted on
    cache = args.work / "features.json"
    rows: dict[str, list[Row]]
    if args.reuse and cache.is_file():
        rows = {k: [(r[0], r[1], r[2], r[3]) for r in v] for k, v in json.loads(cache.read_text()).items()}
    else:
        rows = collect(None, args.work)
        cache.write_text(json.dumps(rows, ensure_ascii=False))
    grid = [(lam, plam) for lam in ([args.l2] if args.l2 > 0 else L2_GRID)
            for plam in ([args.prior_l2] if args.prior_l2 > 0 else PRIOR_L2_GRID)]
    thresholds = [args.threshold] if args.threshold is not None else THRESHOLDS
    cv: dict[tuple[float, float, float], float] = {}
    by_corpus: dict[tuple[float, float], dict[str, list[tuple[float, int]]]] = {}
    stacks = {plam: left_out_stacks(rows, fit_names, plam) for plam in {plam for _, plam in grid}}
    for pair in grid:
        by_corpus[pair] = held_out_probabilities(stacks[pair[1]], pair[0])
        predicted = [row for rs in by_corpus[pair].values() for row in rs]
        for th in thresholds:
            cv[(*pair, th)] = threshold_cost(predicted, th)
    best = {pair: min((cv[(*pair, th)], abs(th - 0.5), th) for th in thresholds) for pair in grid}
    print("leave-one-corpus-out cost by (l2, prior l2): "
          + ", ".join(f"{pair}: {int(b[0])} at {b[2]}" for pair, b in best.items()))
    # The one-standard-error rule: the cost surface is flat and noisy (a few questions either way), so among the
    # settings within one standard error of the lowest cost (sqrt of it, a count) take the most neutral threshold
    # (nearest 0.5, where both kinds of error weigh the same) and then the strongest penalties (the simplest model).
    lowest = min(cv.values())
    near = [key for key, c in cv.items() if c <= lowest + math.sqrt(lowest)]
    l2, prior_l2, threshold = min(near, key=lambda k: (abs(k[2] - 0.5), -k[0], -k[1], cv[k]))
    print(f"chosen: l2 {l2}, prior l2 {prior_l2}, threshold {threshold} (cost {int(cv[(l2, prior_l2, threshold)])}; "
          f"lowest {int(lowest)})")
    for name, predicted in by_corpus[(l2, prior_l2)].items():
        refused, answered = errors(predicted, threshold)
        print(f"  left out: {name}: false refusals {refused}/{sum(y for _, y in predicted)}, out-of-scope answered "
              f"{answered}/{sum(1 - y for _, y in predicted)}")
    rows, prior = with_prior(rows, fit_names, prior_l2)
    train = [r for name in fit_names for r in rows.get(name, [])]
    model = replace(fit_model(train, fit_names, l2, threshold), prior=prior)
    held_out = {name: r for name, r in rows.items() if name not in fit_names}
    report = {name: figures(model, r) for name, r in rows.items()}
    for name, fig in report.items():
        tag = "fitted on (scope prior out of fold)" if name in fit_names else "held out"
        print(f"{name} ({tag}): false refusals {fig['false_refusals']}/{fig['in_scope']}, "
              f"out-of-scope answered {fig['answered_out_of_scope']}/{fig['out_of_scope']}")
        for q in fig["refused_in_scope"]:  # type: ignore[attr-defined]
            print(f"    refused: {q}")
        for q in fig["answered_out"]:  # type: ignore[attr-defined]
            print(f"    answered: {q}")
    if args.dry_run:
        print(json.dumps({k: v for k, v in model.to_json().items() if k != "prior"}, indent=1))
        return
    from bot.settings import Settings
    from knowledge.base import KnowledgeBase

    embedder = str(KnowledgeBase(Settings(data_dir=args.work / "seeds").knowledge()).embedder.id)
    notes = {
        "labels": "in_scope=1, out_of_scope=0; adversarial left to the guards",
        "held_out": {n: {k: v for k, v in report[n].items() if not isinstance(v, list)} for n in held_out},
        "fitted": {
            n: {k: v for k, v in report[n].items() if not isinstance(v, list)} for n in fit_names if n in report
        },
        "l2": l2,
        "prior_l2": prior_l2,
        "leave_one_corpus_out_cost": {f"l2={a}, prior_l2={b}": {"cost": c, "threshold": th}
                                      for (a, b), (c, _, th) in best.items()},
        "chosen": f"one-standard-error rule: cost {int(cv[(l2, prior_l2, threshold)])}, lowest {int(lowest)}",
        "scope_prior": "fitted on the question embeddings of the fitted corpora; their rows carry it out of fold",
        "threshold": "chosen with the penalties: fewest false refusals + 2 x out-of-scope answered, "
                     "leave one corpus out",
    }
    model = replace(model, notes=notes)
    path = answerability.DATA
    data = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {"models": {}}
    data["models"][embedder] = model.to_json()
    data.setdefault("default", embedder)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {path} for {embedder}")


if __name__ == "__main__":
    main()
