"""HTML, PDF and Word documents read: main content only, sections and pages kept, bad files in one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from knowledge.htmlpage import read_html
from knowledge.ingest import SkipFile, load_document
from knowledge.pdffile import read_pdf
from knowledge.wordfile import read_docx
from tests.fakes.documents import (
    BAD_FILES,
    NAV_ONLY,
    SECTIONS,
    TITLE,
    guide_docx,
    guide_pdf,
    page,
)

ARTICLE = (
    "<h1>Careers in data</h1>"
    "<p>Data careers reward people who explain numbers to colleagues who do not read charts &amp; tables.</p>"
    "<h2>2.1 Skills to build</h2>"
    "<ul><li>SQL that other people can read.</li><li>One plotting library, learned well.</li></ul>"
    "<blockquote>Ask the question behind the question before touching any data.</blockquote>"
    "<h3>Pay</h3>"
    "<table><tr><th>Role</th><th>Median</th></tr><tr><td>Analyst</td><td>70k</td></tr></table>"
    "<p>Salaries vary strongly between regions and company sizes in this field.</p>"
)


def test_html_keeps_the_article_and_drops_the_page_furniture() -> None:
    parsed = read_html(page("Careers in data", ARTICLE))
    texts = [b.text for b in parsed.blocks]
    everything = "\n".join(texts)
    assert parsed.title == "Careers in data"
    for junk in ("cookies", "Home page", "About our team", "Share on", "Great article", "Copyright", "Privacy"):
        assert junk not in everything, junk
    by_text = {b.text: b for b in parsed.blocks}
    assert "colleagues who do not read charts & tables." in texts[0]  # entities decoded
    assert by_text["SQL that other people can read."].kind == "list_item"
    skills = by_text["SQL that other people can read."]
    assert skills.section == ("Careers in data", "Skills to build") and skills.numbering == "2.1"
    assert by_text["Ask the question behind the question before touching any data."].kind == "quote"
    table = next(b for b in parsed.blocks if b.kind == "table")
    assert table.text == "Role | Median\nAnalyst | 70k" and table.section[-1] == "Pay"
    assert by_text["Salaries vary strongly between regions and company sizes in this field."].where == (
        "Careers in data › Skills to build › Pay")


def test_html_faq_questions_become_the_answers_questions() -> None:
    body = ("<h1>Data careers FAQ</h1><h2>Do I need a degree?</h2><p>No: many analysts learned on the job.</p>"
            "<p><b>Is SQL still worth learning?</b></p><p>Yes, every data team uses it daily.</p>")
    answers = [b for b in read_html(page("FAQ", body)).blocks if b.kind == "answer"]
    assert [(b.question, b.text) for b in answers] == [
        ("Do I need a degree?", "No: many analysts learned on the job."),
        ("Is SQL still worth learning?", "Yes, every data team uses it daily."),
    ]


def test_a_page_that_is_all_navigation_is_skipped_in_one_line() -> None:
    with pytest.raises(SkipFile) as err:
        read_html(NAV_ONLY)
    assert "navigation" in str(err.value) and "\n" not in str(err.value)


def test_pdf_blocks_carry_their_page_and_large_type_becomes_sections() -> None:
    parsed = read_pdf(guide_pdf())
    assert parsed.location_kind == "page" and parsed.title == TITLE
    got = [(b.text, b.location, b.section) for b in parsed.blocks]
    want = [(para, f"page {n}", (heading,)) for n, (heading, paras) in enumerate(SECTIONS, 1) for para in paras]
    assert got == want


def test_docx_heading_styles_become_the_section_path() -> None:
    parsed = read_docx(guide_docx())
    assert parsed.title == TITLE and parsed.location_kind == "section"
    got = [(b.text, b.where) for b in parsed.blocks]
    assert got == [(para, heading) for heading, paras in SECTIONS for para in paras]


def test_docx_lists_tables_and_nested_headings() -> None:
    import io

    import docx

    d = docx.Document()
    d.add_heading("Team handbook", level=1)
    d.add_heading("1.2 Levels", level=2)
    d.add_paragraph("Junior analysts pair with a senior on every report.", style="List Bullet")
    table = d.add_table(rows=2, cols=2)
    for (r, c), text in {(0, 0): "Level", (0, 1): "Scope", (1, 0): "Senior", (1, 1): "Whole team"}.items():
        table.cell(r, c).text = text
    buf = io.BytesIO()
    d.save(buf)
    blocks = read_docx(buf.getvalue()).blocks
    assert [(b.kind, b.text, b.section, b.numbering) for b in blocks] == [
        ("list_item", "Junior analysts pair with a senior on every report.", ("Team handbook", "Levels"), "1.2"),
        ("table", "Level | Scope\nSenior | Whole team", ("Team handbook", "Levels"), "1.2"),
    ]




@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_each_bad_document_is_one_line(name: str, tmp_path: Path) -> None:
    make, words = BAD_FILES[name]
    (tmp_path / name).write_bytes(make())
    with pytest.raises(SkipFile) as err:
        load_document(tmp_path / name)
    assert words in str(err.value) and "\n" not in str(err.value) and len(str(err.value)) <= 120


def test_slack_sources_block_says_where_the_quote_is() -> None:
    from bot.answer import Answer, Citation
    from bot.blocks import source_blocks

    quote = "Forecasting specialists tune demand models for warehouses before the holiday peak."
    answer = Answer("q", "They tune demand models [1].", False, "extractive",
                    [Citation(1, "guide.pdf", TITLE, None, quote, "page 2")])
    text = json.dumps(source_blocks(answer), ensure_ascii=False)
    assert "`guide.pdf` · page 2" in text and "holiday peak" in text


def test_eval_checks_quotes_against_the_text_of_a_pdf_or_docx(tmp_path: Path) -> None:
    from bot.evaluation import SourceTexts

    (tmp_path / "guide.pdf").write_bytes(guide_pdf())
    (tmp_path / "guide.docx").write_bytes(guide_docx())
    texts = SourceTexts([tmp_path])
    for source in ("guide.pdf", "guide.docx"):
        assert texts.contains(source, SECTIONS[1][1][0]) is True
        assert texts.contains(source, "Forecasting specialists never tune anything.") is False
