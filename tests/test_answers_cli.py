"""`careerbot ask`: the printed answer, the --json contract and the stdin batch mode, as a user runs them."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import cli
from knowledge.readers import quote_in_document
from tests.test_answers import SEEDS

CONTRACT = {"question", "answer", "refused", "mode", "citations", "latency_ms"}
CITATION = {"n", "source", "title", "url", "quote", "location"}


@pytest.fixture
def env(kb_data_dir: Path, tmp_path: Path) -> dict[str, str]:
    """A private copy of the seeded store and an environment with no keys at all."""
    data = tmp_path / "data"
    shutil.copytree(kb_data_dir, data)
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "OPENAI_", "CAREERBOT_", "CHROMA_"))}
    return {**keep, "CAREERBOT_DATA_DIR": str(data), "CAREERBOT_SEEDS_DIR": str(SEEDS), "OMP_NUM_THREADS": "1"}


def run(args: list[str], env: dict[str, str], cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args], input=stdin, capture_output=True, text=True,
        env=env, cwd=cwd, timeout=180,
    )


def check_contract(obj: dict, question: str) -> None:
    assert CONTRACT <= set(obj) <= CONTRACT | {"reason"}  # fields may be added, never removed
    assert ("reason" in obj) == obj["refused"]
    assert obj["question"] == question
    assert isinstance(obj["answer"], str) and obj["answer"]
    assert isinstance(obj["refused"], bool) and obj["mode"] in ("llm", "extractive")
    assert isinstance(obj["latency_ms"], float)
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", obj["answer"])}
    assert markers == {c["n"] for c in obj["citations"]}
    for c in obj["citations"]:
        assert set(c) == CITATION
        raw = (SEEDS / c["source"]).read_text(encoding="utf-8")
        assert quote_in_document(c["quote"], raw, Path(c["source"]).suffix)


def test_ask_prints_answer_and_sources(env: dict[str, str], tmp_path: Path) -> None:
    q = "Which jobs are most exposed to disruption by LLMs?"
    out = run(["ask", q], env, tmp_path)
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert text.startswith("According to the sources")
    assert "\nSources\n[1] " in text and "003_0c1c93809ca1b7a8.txt" in text
    assert "customer service" in text.lower()


def test_ask_json_batch_reads_stdin_one_object_per_line(env: dict[str, str], tmp_path: Path) -> None:
    questions = [
        "Is prompt engineering a real career path?",
        "大模型会取代翻译吗?",
        "How do I fix a leaking kitchen faucet?",
    ]
    out = run(["ask", "--json"], env, tmp_path, stdin="\n".join([questions[0], "", *questions[1:]]) + "\n")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    assert len(lines) == 3
    objs = [json.loads(line) for line in lines]
    for obj, q in zip(objs, questions, strict=True):
        check_contract(obj, q)
    assert [o["refused"] for o in objs] == [False, False, True]


def test_ask_json_single_question_contract(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    monkeypatch.chdir(tmp_path)
    q = "What does a data scientist actually do day to day?"
    result = CliRunner().invoke(cli, ["ask", "--json", q])
    assert result.exit_code == 0, result.output
    check_contract(json.loads(result.stdout), q)


@pytest.mark.parametrize("args", [["ask", ""], ["ask", "   "], ["ask"]])
def test_empty_question_is_one_line_error(args: list[str], clean_env: Path) -> None:
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ")
    assert result.stdout == ""
