"""Answer quality per corpus: every corpus (and each half of the dev corpus) reported separately.

    python benchmarks/answer_quality.py [--work DIR] [--only seeds,dev-report,test] [--json] [--misses]

For each corpus (benchmarks/corpora.py) it ingests the documents into the corpus's own store and
runs ``careerbot eval``'s scoring over its questions: right source cited, expected fact found,
false refusals, out-of-scope/adversarial answered, answers with markup or glued headings, adverts,
verbatim quotes, latency. The answerability model's ``fitted_on`` names which rows are in-sample.
``seeds-heldout`` (benchmarks/data/seeds_heldout.jsonl) is shown as "report only": a fresh question set on the seeds
that nothing may be fitted or tuned on (benchmarks/corpora.py).
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

from benchmarks.corpora import corpora, open_corpus  # noqa: E402
from bot import answerability  # noqa: E402
from bot.evaluation import TABLE_HEADER, run_eval  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "careerbot-bench-corpora")
    ap.add_argument("--only", default="", help="comma-separated corpus names")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--misses", action="store_true", help="list the questions that went wrong")
    args = ap.parse_args()
    names = args.only.split(",") if args.only else None
    rows: list[str] = []
    out: dict[str, object] = {}
    for corpus in corpora(names):
        settings, kb = open_corpus(corpus, args.work)
        report = run_eval(corpus.items, settings, kb=kb)
        model = answerability.load(str(kb.embedder.id))
        tag = "fitted on" if corpus.name in model.fitted_on else "held out"
        label = f"{corpus.name} ({'report only' if corpus.report_only else tag})"
        rows.append(report.row(label, report.summary()))
        out[corpus.name] = {"held_out": tag == "held out", "report_only": corpus.report_only, **report.to_json()}
        if args.misses and not args.json:
            for line in report.misses(limit=0):
                print(f"{corpus.name}: {line}", file=sys.stderr)
    if args.json:
        print(json.dumps(out, ensure_ascii=False))
        return
    print(TABLE_HEADER.replace("| lang |", "| corpus |", 1))
    print("\n".join(rows))


if __name__ == "__main__":
    main()
