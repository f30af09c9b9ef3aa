"""`careerbot eval`: recall on items whose right source we know, citation checks, bad lines, --json.

Real embedded Chroma over the seeds (the session store), the real offline pipeline.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.answer import Answer, Citation
from bot.cli import cli
from bot.errors import EvalFileError
from bot.evaluation import EvalItem, ItemResult, SourceTexts, Summary, check_citations, load_items, run_eval
from bot.settings import Settings
from knowledge.base import KnowledgeBase

JOBS = "003_0c1c93809ca1b7a8.txt"  # "The Impact of LLMs on the Job Market"
ZH = "004_a012fad4e6cda691.txt"  # recommendation engineer -> LLM inference engineer (Chinese)


def _write(path: Path, rows: list[dict | str]) -> Path:
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows) + "\n",
                    encoding="utf-8")
    return path


def _settings(data_dir: Path, seeds: Path) -> Settings:
    return Settings.from_env({"CAREERBOT_DATA_DIR": str(data_dir), "CAREERBOT_SEEDS_DIR": str(seeds)}, dotenv=False)


def test_recall_counts_the_right_source(kb: KnowledgeBase, seeds_dir: Path, tmp_path: Path) -> None:
    questions = _write(
        tmp_path / "q.jsonl",
        [
            {"q": "Which jobs are at risk from LLMs?", "sources": [JOBS], "facts": ["customer service"],
             "kind": "in_scope"},
            # Same question, but the file claims a source that does not exist: must count as a miss.
            {"q": "Which jobs are at risk from LLMs?", "sources": ["no_such_document.txt"], "kind": "in_scope",
             "lang": "en"},
            {"q": "推荐算法工程师如何转行做大模型推理？", "sources": [ZH], "kind": "in_scope"},
        ],
    )
    items = load_items(questions)
    assert [i.lang for i in items] == ["en", "en", "zh"]  # detected when "lang" is absent

    report = run_eval(items, _settings(tmp_path / "data", seeds_dir), kb=kb, mode="hybrid")

    ranks = [r.rank for r in report.results]
    assert ranks[0] == 1 and ranks[1] is None and ranks[2] == 1
    overall, en, zh = report.summary(), report.summary("en"), report.summary("zh")
    assert overall.recall[5] == pytest.approx(2 / 3)
    assert en.recall == {1: 0.5, 3: 0.5, 5: 0.5}
    assert zh.recall[1] == 1.0
    # The offline answers quote their sources verbatim and every [n] resolves.
    assert overall.quotes_total > 0 and overall.quotes_ok == overall.quotes_total
    assert overall.markers_ok == 1.0
    assert report.results[0].facts_found == ["customer service"]
    # The table has a row per language and one overall.
    table = report.table()
    assert "| en | 2 | 50% | 50% | 50% |" in table and "| zh | 1 | 100% |" in table and "| all | 3 |" in table


def test_citation_check_catches_invented_quotes_and_dangling_markers(seeds_dir: Path) -> None:
    sources = SourceTexts([seeds_dir])
    real = "LLMs are increasingly being deployed in customer service roles"
    good = Answer("q", "Customer service is exposed [1].", False, "extractive",
                  [Citation(1, JOBS, "t", None, real)])
    assert check_citations(good, sources) == (1, [], True)

    bad = Answer("q", "Translators will vanish by 2025 [1]; see also [3].", False, "extractive",
                 [Citation(1, JOBS, "t", None, "translators will vanish by 2025"),
                  Citation(2, "missing.txt", "t", None, real)])
    total, problems, markers_ok = check_citations(bad, sources)
    assert total == 2 and not markers_ok
    assert any("not verbatim" in p for p in problems) and any("source file not found" in p for p in problems)


def test_summary_refusal_and_latency_figures() -> None:
    def result(kind: str, refused: bool, ms: float) -> ItemResult:
        item = EvalItem(1, "q", ("a.txt",) if kind == "in_scope" else (), (), kind, "en")
        return ItemResult(item, 1 if kind == "in_scope" else None, refused, [], [], 0, [], True, ms)

    s = Summary.of([
        result("in_scope", False, 10), result("in_scope", True, 20), result("out_of_scope", True, 30),
        result("adversarial", False, 40), result("out_of_scope", True, 50),
    ])
    assert s.false_refusals == 0.5
    assert s.refusal_accuracy == pytest.approx(2 / 3)
    assert s.p50_ms == 30 and s.p95_ms == pytest.approx(48)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('{"q": "Which jobs are at risk?", "sources": [', "line 2: not valid JSON"),
        ('{"sources": ["a.txt"]}', 'line 2: "q" must be a non-empty string'),
        ('{"q": "x", "sources": ["a.txt"], "kind": "trick"}', 'line 2: "kind" must be one of'),
        ('{"q": "x", "sources": "a.txt"}', 'line 2: "sources" must be a list'),
    ],
)
def test_bad_line_is_one_line_error_with_its_number(clean_env: Path, line: str, expected: str) -> None:
    path = _write(clean_env / "bad.jsonl", [{"q": "Which jobs are at risk?", "sources": [JOBS]}, line])
    result = CliRunner().invoke(cli, ["eval", str(path)])
    assert result.exit_code == EvalFileError.exit_code
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and expected in lines[0], result.stderr
    assert "Traceback" not in result.output


def test_missing_file_is_one_line_error(clean_env: Path) -> None:
    result = CliRunner().invoke(cli, ["eval", str(clean_env / "nope.jsonl")])
    assert result.exit_code == EvalFileError.exit_code
    assert result.stderr.strip() == f"Error: no such question file: {clean_env / 'nope.jsonl'}"


def test_json_output_parses(kb_copy: KnowledgeBase, clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAREERBOT_DATA_DIR", str(kb_copy.config.data_dir))
    path = _write(
        clean_env / "q.jsonl",
        [
            {"q": "Which jobs are at risk from LLMs?", "sources": [JOBS], "facts": ["customer service"]},
            {"q": "What's a good recipe for banana bread?", "kind": "out_of_scope"},
            {"q": "This line is past --limit", "sources": [JOBS]},
        ],
    )
    result = CliRunner().invoke(cli, ["eval", str(path), "--json", "--mode", "dense", "--limit", "2"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["mode"] == "dense" and data["answer_mode"] == "extractive"
    assert [i["line"] for i in data["items"]] == [1, 2]
    assert data["overall"]["items"] == 2 and data["overall"]["in_scope"] == 1
    assert data["overall"]["recall@1"] == 1.0 and data["items"][0]["rank"] == 1
    assert set(data["by_language"]) == {"en"}
    assert data["overall"]["refusals_expected"] == 1
    assert data["items"][1]["refused"] is True and data["overall"]["refusal_accuracy"] == 1.0


def test_eval_on_a_corpus_of_its_own(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    corpus = Path(__file__).parent / "corpus"
    monkeypatch.setenv("CAREERBOT_DATA_DIR", str(clean_env / "data"))
    result = CliRunner().invoke(cli, ["eval", str(corpus / "questions.jsonl"), "--corpus", str(corpus), "--json",
                                      "--limit", "3"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["overall"]["in_scope"] == 3 and data["overall"]["cited_right"] is not None
    # Its own store: the main one (seeds) was never created.
    assert (clean_env / "data" / "eval" / "corpus").is_dir()
    assert {i["line"] for i in data["items"]} == {1, 2, 3}
