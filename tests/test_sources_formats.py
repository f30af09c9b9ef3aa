"""PDF and Word documents in the store: pages and sections as citation locations; bad files skipped in one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import cli
from knowledge.base import KnowledgeBase
from knowledge.config import KnowledgeConfig
from tests.fakes.documents import BAD_FILES, guide_docx, guide_pdf


@pytest.fixture(scope="module")
def guides(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    """The same guide as PDF and DOCX, next to bad documents, ingested into a fresh store."""
    folder = tmp_path_factory.mktemp("guides")
    (folder / "guide.pdf").write_bytes(guide_pdf())
    (folder / "guide.docx").write_bytes(guide_docx())
    for name, (make, _) in BAD_FILES.items():
        (folder / name).write_bytes(make())
    kb = KnowledgeBase(KnowledgeConfig(data_dir=tmp_path_factory.mktemp("data")))
    report = kb.ingest([folder])
    assert {f.source for f in report.files if f.status == "added"} == {"guide.pdf", "guide.docx"}
    assert {f.source for f in report.skipped} == set(BAD_FILES)
    return kb



def test_pdf_and_docx_of_the_same_text_cite_the_same_passage_with_page_and_section(guides: KnowledgeBase) -> None:
    passages = guides.search("Who tunes demand models for warehouses before the holiday peak?", k=2).passages
    assert {p.source for p in passages} == {"guide.pdf", "guide.docx"}
    assert passages[0].text == passages[1].text and "holiday peak" in passages[0].text
    where = {p.source: p.location for p in passages}
    assert where == {"guide.pdf": "page 2", "guide.docx": "Forecasting specialist"}



def test_ask_json_citations_carry_the_location(guides: KnowledgeBase, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.pipeline import build_pipeline
    from bot.settings import Settings

    settings = Settings.from_env({"CAREERBOT_DATA_DIR": str(guides.config.data_dir)}, dotenv=False)
    answer = build_pipeline(settings, kb=guides).answer("What do forecasting specialists do for warehouses?")
    assert not answer.refused and answer.citations
    cited = {(c["source"], c["location"]) for c in answer.to_json()["citations"]}
    assert cited & {("guide.pdf", "page 2"), ("guide.docx", "Forecasting specialist")}



def test_cli_ingest_of_a_folder_with_bad_documents_goes_on(clean_env: Path) -> None:
    folder = clean_env / "docs"
    folder.mkdir()
    (folder / "guide.pdf").write_bytes(guide_pdf())
    for name, (make, _) in BAD_FILES.items():
        (folder / name).write_bytes(make())
    res = CliRunner().invoke(cli, ["ingest", "-q", str(folder)])
    assert res.exit_code == 1 and "Traceback" not in res.output
    lines = res.stdout.splitlines()
    for name, (_, words) in BAD_FILES.items():
        (line,) = [x for x in lines if f" {name}:" in x]
        assert line.startswith("skipped") and words in line
    assert any(x.startswith("added") and "guide.pdf" in x for x in lines)
    found = CliRunner().invoke(cli, ["search", "transformation models finance teams reconcile", "--json", "-k", "1"])
    (hit,) = json.loads(found.stdout)["passages"]
    assert (hit["source"], hit["location"]) == ("guide.pdf", "page 1")


def test_a_citation_location_does_not_repeat_the_documents_title(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "field-guide.md").write_text(
        "# Field guide to data roles\n\n## Survey statistician\n\n"
        "Survey statisticians design questionnaires and weight the responses of households.\n\n"
        "## Pipeline engineer\n\nPipeline engineers keep nightly loads of sales records on time.\n",
        encoding="utf-8",
    )
    kb = KnowledgeBase(KnowledgeConfig(data_dir=tmp_path / "data"))
    kb.ingest([folder])
    top = kb.search("Who weights the responses of households in a questionnaire?", k=1).passages[0]
    assert top.title == "Field guide to data roles"
    assert top.where == "Survey statistician"
