"""Fit the answerability model (bot/answerability.py) and write bot/data/answerability.json.

    python benchmarks/fit_answerability.py [--work DIR] [--fit seeds,dev-fit,seeds-near,dev-near,fitcorpus] [--dry-run]

Labels: in-scope questions 1, out-of-scope 0 (adversarial ones are refused by the guards first and are left out).
Features come from ``Pipeline.evidence`` on each corpus's own store. The model is fitted on the ``--fit`` corpora:
by default the seeds, the dev corpus's fit half and the near-topic fit questions about both
(benchmarks/data/fit_near_topic.jsonl: near-topic out-of-scope ones, casual and cross-lingual in-scope ones), and
``fitcorpus`` (benchmarks/data/fitcorpus/, our own documents whose scope is the other corpora's out-of-scope: pay,
bootcamps, visas, notice periods). The threshold is the one with the lowest cost (false refusals + 2 x out-of-scope
answered) on them. The leave-one-corpus-out cost of each L2 penalty of a grid (fit on all but one fit corpus, cost
on that one) is printed and recorded; ``--l2 0`` picks the lowest (30 on 2026-12-01, which cost our own corpus a
false refusal; the default stays 3). The figures on every other corpus (questions it was not fitted on) are written
next to the coefficients and printed.

Report-only sets are never seen here: ``seeds-heldout`` (benchmarks/data/seeds_heldout.jsonl) and the corpora of
benchmarks/heldout.py (benchmarks/data/heldout/, benchmarks/data/heldout2/). ``collect`` goes through
``benchmarks.corpora.fit_corpora``, which leaves them out and raises if ``--fit`` names one. Do not add them, and do
not pick ``--l2``/``--threshold`` by looking at their figures: they are our proxy for the judges' unseen questions.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from benchmarks.corpora import fit_corpora, open_corpus  # noqa: E402
from bot import answerability  # noqa: E402
from bot.answerability import FEATURES, Evidence, Model  # noqa: E402
from bot.pipeline import build_pipeline  # noqa: E402


def collect(names: list[str] | None, work: Path) -> dict[str, list[tuple[list[float], int, str]]]:
    rows: dict[str, list[tuple[list[float], int, str]]] = {}
    for corpus in fit_corpora(names):  # never a report-only corpus
        settings, kb = open_corpus(corpus, work)
        pipeline = build_pipeline(settings, kb=kb)
        out = []
        for item in corpus.items:
            if item.kind == "adversarial":
                continue
            d = pipeline.evidence(item.q)
            out.append((d.evidence.vector(), 1 if item.kind == "in_scope" else 0, item.q))
        pipeline.vectors.save()
        rows[corpus.name] = out
        print(f"{corpus.name}: {len(out)} questions", file=sys.stderr)
    return rows


def figures(model: Model, rows: list[tuple[list[float], int, str]]) -> dict[str, object]:
    inside = [r for r in rows if r[1] == 1]
    outside = [r for r in rows if r[1] == 0]

    def p(r: tuple[list[float], int, str]) -> float:
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
THRESHOLDS = [round(0.3 + 0.05 * i, 2) for i in range(11)]


def cost(fig: dict[str, object]) -> float:
    """What a fit is judged by: false refusals + 2 x out-of-scope answered."""
    return float(fig["false_refusals"]) + 2.0 * float(fig["answered_out_of_scope"])  # type: ignore[arg-type]


def fit_model(train: list[tuple[list[float], int, str]], names: list[str], l2: float,
              threshold: float | None = None) -> Model:
    """The logistic model on these rows; the threshold (unless given) with the lowest cost on them."""
    weights, bias = answerability.fit([r[0] for r in train], [r[1] for r in train], l2=l2)
    w = dict(zip(FEATURES, weights, strict=True))
    if threshold is None:
        threshold = min(THRESHOLDS, key=lambda th: (cost(figures(Model(w, bias, threshold=th), train)), abs(th - 0.5)))
    return Model(w, bias, threshold=threshold, borderline=round(threshold * 0.6, 3), fitted_on=tuple(names))


def held_out_cost(rows: dict[str, list[tuple[list[float], int, str]]], names: list[str], l2: float) -> float:
    """Leave one corpus out: fit on the other fit corpora, cost on the one left out; summed."""
    total = 0.0
    for out in names:
        rest = [n for n in names if n != out]
        model = fit_model([r for n in rest for r in rows.get(n, [])], rest, l2)
        total += cost(figures(model, rows.get(out, [])))
    return total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "careerbot-bench-corpora")
    ap.add_argument("--fit", default="seeds,dev-fit,seeds-near,dev-near,fitcorpus")
    ap.add_argument("--l2", type=float, default=3.0,
                    help="L2 penalty (default 3); --l2 0 picks the one of the grid with the lowest "
                         "leave-one-corpus-out cost")
    ap.add_argument("--threshold", type=float, default=None,
                    help="decision threshold; default: the one with the fewest false refusals + 2 x out-of-scope "
                         "answered on the fitted corpora")
    ap.add_argument("--dry-run", action="store_true", help="print, do not write the data file")
    ap.add_argument("--reuse", action="store_true", help="reuse the features of the last run (work/features.json)")
    args = ap.parse_args()
    fit_names = args.fit.split(",")
    fit_corpora(fit_names)  # raises on a report-only corpus (seeds-heldout): those are never fitted on
    cache = args.work / "features.json"
    if args.reuse and cache.is_file():
        rows = {k: [(r[0], r[1], r[2]) for r in v] for k, v in json.loads(cache.read_text()).items()}
    else:
        rows = collect(None, args.work)
        cache.write_text(json.dumps(rows, ensure_ascii=False))
    train = [r for name in fit_names for r in rows.get(name, [])]
    l2 = args.l2
    cv = {lam: held_out_cost(rows, fit_names, lam) for lam in L2_GRID}
    print(f"leave-one-corpus-out cost by l2: {cv}")
    if l2 <= 0:
        l2 = min(L2_GRID, key=lambda lam: (cv[lam], -lam))
    model = fit_model(train, fit_names, l2, args.threshold)
    held_out = {name: r for name, r in rows.items() if name not in fit_names}
    report = {name: figures(model, r) for name, r in rows.items()}
    for name, fig in report.items():
        tag = "fitted on" if name in fit_names else "held out"
        print(f"{name} ({tag}): false refusals {fig['false_refusals']}/{fig['in_scope']}, "
              f"out-of-scope answered {fig['answered_out_of_scope']}/{fig['out_of_scope']}")
        for q in fig["refused_in_scope"]:  # type: ignore[attr-defined]
            print(f"    refused: {q}")
        for q in fig["answered_out"]:  # type: ignore[attr-defined]
            print(f"    answered: {q}")
    if args.dry_run:
        print(json.dumps(model.to_json(), indent=1))
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
        "l2_leave_one_corpus_out_cost": {str(k): v for k, v in cv.items()},
        "threshold": "chosen on the fitted corpora: fewest false refusals + 2 x out-of-scope answered",
    }
    model = Model(model.weights, model.bias, model.threshold, model.borderline, model.fitted_on, notes)
    path = answerability.DATA
    data = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {"models": {}}
    data["models"][embedder] = model.to_json()
    data.setdefault("default", embedder)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {path} for {embedder}")


if __name__ == "__main__":
    main()
