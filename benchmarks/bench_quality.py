"""Benchmark 5: answer quality on the question set, dense-only vs lexical-only vs hybrid.

    python benchmarks/bench_quality.py --data-dir DIR [--smoke] [--out FILE.json]

Runs `careerbot eval`'s logic (bot/evaluation.py) over benchmarks/data/questions.jsonl
once per retrieval mode, with the offline extractive writer; the whole bot is pinned to
the mode, so refusals and citations change with it, not only recall.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import QUESTIONS, offline_env, write_result  # noqa: E402

MODES = ("dense", "lexical", "hybrid")


def run(data_dir: Path, smoke: bool) -> dict[str, Any]:
    from bot.evaluation import load_items, run_eval
    from bot.settings import Settings
    from knowledge.base import KnowledgeBase

    settings = Settings.from_env(offline_env(data_dir), dotenv=False)
    kb = KnowledgeBase(settings.knowledge())
    items = load_items(QUESTIONS)
    if smoke:
        items = items[::16]
    out: dict[str, Any] = {"file": str(QUESTIONS.relative_to(QUESTIONS.parents[2])), "items": len(items), "modes": {}}
    for mode in MODES:
        report = run_eval(items, settings, kb=kb, mode=mode)
        out["modes"][mode] = {"table": report.table(), **report.to_json()}
    return out


def markdown(r: dict[str, Any]) -> str:
    lines = [
        f"`careerbot eval {r['file']} --mode MODE` ({r['items']} questions), offline extractive answers. "
        "R@k: a passage of the right source in the top k; facts: expected facts found in the answer and its quotes; "
        "quotes verbatim: quotes found character for character in the source file; markers ok: answers whose every "
        "[n] resolves; refusal acc.: out-of-scope and adversarial questions refused; false refusals: in-scope "
        "questions refused.",
    ]
    for mode, x in r["modes"].items():
        lines += ["", f"**{mode}**", "", x["table"]]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", type=Path, required=True)
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--out")
    args = ap.parse_args()
    write_result(args.out, run(args.data_dir, args.smoke))


if __name__ == "__main__":
    main()
