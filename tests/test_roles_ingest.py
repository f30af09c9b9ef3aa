"""A document that defines a new role adds it to the catalog after `careerbot ingest`.

Runs the real commands (`careerbot ingest`, `careerbot role`, `careerbot roles`) against a
private copy of the seeded store, with a new markdown document that defines roles the alias
file has never heard of, and carries text that must be escaped in Slack.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import cli
from bot.role_service import RoleService
from bot.settings import Settings
from knowledge.base import KnowledgeBase

NEW_DOC = """---
title: Careers in Quantum AI
---

# Careers in Quantum AI

## Jobs Created by Quantum Computing

### Quantum Circuit Designers

Quantum circuit designers coax useful answers out of quantum language models.
Demand for quantum circuit designers is growing as labs ship demos & products <for everyone>, and <@U0BOSS> agrees.
They need a strong foundation in linear algebra and a knack for patient experimentation.

## Other notes

Qubit Technician: These professionals keep fragile qubits calm during long runs, working with hardware teams.
"""


@pytest.fixture
def copy_env(clean_env: Path, kb_copy: KnowledgeBase, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """CAREERBOT_DATA_DIR → the writable copy; returns (data dir, new document)."""
    data_dir = kb_copy.config.data_dir
    monkeypatch.setenv("CAREERBOT_DATA_DIR", str(data_dir))
    doc = clean_env / "notes" / "quantum.md"
    doc.parent.mkdir()
    doc.write_text(NEW_DOC, encoding="utf-8")
    return data_dir, doc


def test_new_document_defines_new_roles_after_ingest(copy_env: tuple[Path, Path]) -> None:
    data_dir, doc = copy_env
    runner = CliRunner()
    before = runner.invoke(cli, ["role", "quantum circuit designer", "--json"])
    assert before.exit_code == 0, before.output
    assert json.loads(before.output)["matched"] is False

    ingested = runner.invoke(cli, ["ingest", "-q", str(doc)])
    assert ingested.exit_code == 0, ingested.output

    listing = runner.invoke(cli, ["roles"])
    assert "Quantum Circuit Designer" in listing.output and "Qubit Technician" in listing.output
    assert "Translator / Interpreter" in listing.output  # the seeds' roles are still there

    after = runner.invoke(cli, ["role", "Quantum Circuit Designers", "--json"])
    data = json.loads(after.output)
    assert data["matched"] is True and data["card"]["name"] == "Quantum Circuit Designer"
    assert data["card"]["outlook"] == "growing"
    assert data["citations"] and all(c["source"] == "quantum.md" for c in data["citations"])
    text = doc.read_text(encoding="utf-8")
    for c in data["citations"]:
        assert c["quote"] in text
    skills = next(s for s in data["card"]["sections"] if s["key"] == "skills")
    assert any("linear algebra" in ln["text"] for ln in skills["lines"])

    wrangler = json.loads(runner.invoke(cli, ["role", "qubit technician", "--json"]).output)
    assert wrangler["matched"] and "keep fragile qubits calm" in wrangler["card"]["sections"][0]["lines"][0]["text"]


def test_card_blocks_escape_document_text(copy_env: tuple[Path, Path], kb_copy: KnowledgeBase) -> None:
    _, doc = copy_env
    kb_copy.ingest([doc])
    service = RoleService(kb_copy, Settings.from_env({}, dotenv=False))
    result = service.card("quantum circuit designer")
    assert result.matched
    flat = json.dumps(result.to_blocks())
    assert "<@U0BOSS>" not in flat and "<for everyone>" not in flat
    assert "&lt;@U0BOSS&gt;" in flat and "demos &amp; products &lt;for everyone&gt;" in flat
    assert "<for everyone>" in result.to_text()  # plain text (CLI) keeps the quote as written
