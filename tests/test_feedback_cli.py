"""`careerbot feedback`: what a team reads to fix its knowledge base, from the shared store."""

from __future__ import annotations

import csv
import io
import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import cli
from bot.state import State
from bot.state.report import parse_since


@pytest.fixture
def votes(clean_env: Path) -> State:
    state = State.open(f"sqlite:///{(clean_env / 'data').resolve() / 'careerbot.sqlite3'}")
    good = state.record_answer(question="What does a data scientist do?", answer="Analyses data [1].",
                               sources=[{"n": 1, "source": "roles.md", "title": "Roles"}], mode="extractive")
    bad = state.record_answer(question="Will LLMs replace translators?", answer="Maybe [1][2].",
                              sources=[{"n": 1, "source": "jobs.md", "title": "Jobs and LLMs"},
                                       {"n": 2, "source": "roles.md", "title": "Roles"}], mode="llm")
    state.record_vote(good, "U1", "up")
    state.record_vote(bad, "U1", "down")
    state.record_vote(bad, "U2", "down")
    return state


def test_text_report_names_the_worst_answer_its_question_and_sources(votes: State) -> None:
    result = CliRunner().invoke(cli, ["feedback"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "2 answers posted, 1 up, 2 down" in out
    worst = out.index("Will LLMs replace translators?")
    assert worst < out.index("What does a data scientist do?")  # lowest first
    assert "jobs.md" in out and "Documents cited by down-voted answers" in out


def test_json_and_csv_carry_the_same_figures(votes: State) -> None:
    data = json.loads(CliRunner().invoke(cli, ["feedback", "--since", "1d", "--json"]).output)
    assert (data["up"], data["down"], data["answers"]) == (1, 2, 2)
    assert data["lowest"][0]["question"] == "Will LLMs replace translators?" and data["lowest"][0]["score"] == -2
    assert {s["source"] for s in data["down_sources"]} == {"jobs.md", "roles.md"}
    rows = list(csv.DictReader(io.StringIO(CliRunner().invoke(cli, ["feedback", "--csv"]).output)))
    assert {r["kind"] for r in rows} == {"day", "answer", "source"}
    day = [r for r in rows if r["kind"] == "day"]
    assert sum(int(r["up"]) for r in day) == 1 and sum(int(r["down"]) for r in day) == 2


def test_an_empty_period_and_bad_input(votes: State) -> None:
    later = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 2 * 86400))
    result = CliRunner().invoke(cli, ["feedback", "--since", later])
    assert result.exit_code == 0 and "No votes in this period." in result.output
    bad = CliRunner().invoke(cli, ["feedback", "--since", "last tuesday"])
    assert bad.exit_code == 2 and "--since takes a span" in bad.output
    assert CliRunner().invoke(cli, ["feedback", "--json", "--csv"]).exit_code == 2


def test_an_unreachable_database_is_one_line(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://bot:hunter2-secret@127.0.0.1:1/careerbot")
    result = CliRunner().invoke(cli, ["feedback"])
    assert result.exit_code == 11
    assert result.output.startswith("Error: cannot open the database") and len(result.output.splitlines()) == 1
    assert "hunter2-secret" not in result.output


def test_since_spans() -> None:
    assert parse_since("7d", now=1_000_000) == 1_000_000 - 7 * 86400
    assert parse_since("24h", now=100_000) == 100_000 - 86400
    assert parse_since("2026-11-01") == 1793491200.0
