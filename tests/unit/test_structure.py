"""Structure kept at ingest: what a user of the answers notices.

Our own documents in tests/data/structure (numbered headings, bold lead-ins, footnotes, quotes, tables,
code, an English Q:/A: FAQ, a Chinese 问/答 page with adverts, a bold-question FAQ, several front-matter
styles, plain text): chunk text has no markup, carries its section path as metadata, FAQ answers carry
their question instead of quoting it, every sentence is verbatim in the document's plain text, and a
re-ingest changes nothing.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from knowledge.ingest import Chunk, SkipFile, chunk_document, load_document
from knowledge.readers import plain, quote_in_document
from knowledge.text import split_sentences

DATA = Path(__file__).resolve().parents[1] / "data" / "structure"
SEEDS = Path(__file__).resolve().parents[2] / "seeds"
MARKUP = re.compile(
    r"\*\*|__|^\s*>|\[\^|</?[A-Za-z][A-Za-z0-9]*[\s>/]|&(#\d+|[A-Za-z]{2,8});|^\s*#{1,6}\s|\]\(|\[\[|\{:", re.M
)


def _chunks(name: str) -> list[Chunk]:
    return chunk_document(load_document(DATA / name))


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_no_chunk_of_any_test_document_or_seed_keeps_markup() -> None:
    for path in [*sorted(DATA.iterdir()), *sorted(SEEDS.iterdir())]:
        for c in chunk_document(load_document(path)):
            assert not MARKUP.search(c.text), (path.name, c.text[:120])


def test_numbered_headings_become_the_section_path_not_part_of_the_text() -> None:
    chunks = _chunks("book.md")
    (c,) = [c for c in chunks if "Research engineers turn those ideas" in c.text]
    assert c.section == ("Choosing a path", "The roles", "Research scientist vs. research engineer")
    meta = c.metadata(load_document(DATA / "book.md"), "root")
    assert meta["section"] == "Choosing a path › The roles › Research scientist vs. research engineer"
    assert meta["heading"] == "Research scientist vs. research engineer"
    assert meta["numbering"] == "1.1.2"
    assert meta["location"] == meta["section"]
    assert meta["question"] == ""
    assert all(isinstance(v, str | int) for v in meta.values())  # flat, as Chroma needs
    for chunk in chunks:
        first = split_sentences(chunk.text)[0]
        assert not re.match(r"\d+(\.\d+)+", first), first  # no section number glued to a sentence
        assert not any(first.startswith(h) for h in ("Research scientist vs.", "Choosing a path", "The roles"))
    # The bold lead-in and the inline markup read as plain sentences.
    assert c.text.startswith("Research scientists design experiments and write papers about new model architectures.")
    assert "Pay. Both roles are paid well" in c.text
    # Block quote and table rows are text of the section; code is a chunk of its own kind.
    assert "A good research engineer makes the scientist's experiment run ten times faster." in c.text
    assert "Research engineer | Training infrastructure | MSc or BSc" in c.text
    (code,) = [c for c in chunks if c.kind == "code"]
    assert "def train(model):" in code.text and "def train" not in "\n".join(x.text for x in chunks if x is not code)


def test_links_images_entities_wikilinks_and_attribute_lists_are_reduced_to_text() -> None:
    text = "\n".join(c.text for c in _chunks("book.md"))
    assert "see the MLE page." in text  # Obsidian [[target|label]] -> label
    assert "Tools & skills they use daily include Docker, CI pipelines and feature stores." in text
    assert "the serving stack." in text  # kramdown {: .note} dropped
    for junk in ("shields.io", "img", "build-passing", "https://", "roles/mle", ".note", "abbr"):
        assert junk not in text, junk


def test_a_table_of_contents_is_not_passage_text_and_question_headings_are_locations(tmp_path: Path) -> None:
    doc = load_document(DATA / "book.md")
    assert "table of contents (3 line(s))" in doc.stripped
    assert chunk_document(doc)[0].text.startswith("This short guide compares the jobs")
    faq = load_document(_write(tmp_path / "q.md", "# Careers FAQ\n\n## 2.3 Do recruiters read cover letters?\n\n"
                                "Rarely; a short note in the application form does the same job.\n"))
    (c,) = chunk_document(faq)
    assert (c.kind, c.question, c.numbering) == ("answer", "Do recruiters read cover letters?", "2.3")
    assert c.location == "Careers FAQ › Do recruiters read cover letters?"
    assert c.text == "Rarely; a short note in the application form does the same job."
    nested = load_document(_write(tmp_path / "n.md", "## How do I prepare for interviews?\n\n### Coding\n\n"
                                  "Practise two problems a day.\n\n### System design\n\nSketch one system a week.\n"))
    assert [(c.section, c.question, c.text) for c in chunk_document(nested)] == [
        (("How do I prepare for interviews?", "Coding"), "How do I prepare for interviews?",
         "Practise two problems a day."),
        (("How do I prepare for interviews?", "System design"), "How do I prepare for interviews?",
         "Sketch one system a week."),
    ]


def test_a_wholly_bold_short_line_is_a_heading_not_a_sentence(tmp_path: Path) -> None:
    doc = load_document(_write(tmp_path / "pros.md", "# Industry or PhD\n\n**Industry: pros**\n\n"
                               "- Higher pay from day one.\n\n**Industry: cons**\n\n"
                               "- Less freedom to pick research topics.\n\n"
                               "**Is a PhD worth it?**\n\nOnly if you want to do research for a living.\n"))
    chunks = chunk_document(doc)
    assert [(c.section, c.text) for c in chunks[:2]] == [
        (("Industry or PhD", "Industry: pros"), "Higher pay from day one."),
        (("Industry or PhD", "Industry: cons"), "Less freedom to pick research topics."),
    ]
    assert chunks[2].question == "Is a PhD worth it?" and chunks[2].section == ("Industry or PhD",)


def test_a_numbered_title_line_inside_a_paragraph_is_a_heading(tmp_path: Path) -> None:
    raw = "# Book\n\n1.1.2.2 Research scientist vs. research engineer\nThis is a rare role in industry.\n"
    (c,) = chunk_document(load_document(_write(tmp_path / "book2.md", raw)))
    assert (c.section, c.numbering, c.text) == (
        ("Book", "Research scientist vs. research engineer"), "1.1.2.2", "This is a rare role in industry.")
    (wrapped,) = chunk_document(load_document(_write(tmp_path / "stat.md", "# Book\n\n1.5 million people\n"
                                                     "work in AI today.\n")))
    assert (wrapped.section, wrapped.text) == (("Book",), "1.5 million people work in AI today.")


def test_a_bold_lead_in_glued_to_its_sentence_is_separated(tmp_path: Path) -> None:
    doc = load_document(_write(tmp_path / "zh.md",
                               "# 课程亮点\n\n1.\u00a0**系统化的学习路径**项目把课程分为基础、科学家和工程师三部分。"))
    (c,) = chunk_document(doc)
    assert c.text == "1. 系统化的学习路径：项目把课程分为基础、科学家和工程师三部分。"
    assert quote_in_document(c.text, doc.raw, ".md")


def test_footnotes_are_blocks_of_the_section_that_cites_them() -> None:
    notes = [c for c in _chunks("book.md") if c.kind == "footnote"]
    assert {c.text for c in notes} == {
        "The guide was first written as lecture notes in 2024.",
        "Hiring managers said so in an informal survey of forty teams.",
    }
    (survey,) = [c for c in notes if "survey" in c.text]
    assert survey.section == ("Choosing a path", "Getting hired")
    (portfolio,) = [c for c in _chunks("book.md") if "Portfolio projects" in c.text]
    assert portfolio.text == "Portfolio projects matter more than certificates for a first job in this field."


@pytest.mark.parametrize(
    ("name", "question", "answer_start"),
    [
        ("faq_en.md", "Do I need a PhD to work as a machine learning engineer?", "No. Most machine learning"),
        ("faq_en.md", "How long does it take to switch from web development into MLOps?", "Usually six to twelve"),
        ("faq_zh.txt", "转行做大模型推理工程师需要补哪些技能？", "需要补充 CUDA 编程"),
        ("faq_zh.txt", "没有实习经历，可以投大模型算法岗吗？", "可以投。"),
        ("bold_faq.md", "Is it worth doing a second master's degree just to get into machine learning?", "Rarely."),
        ("bold_faq.md", "Should I learn TensorFlow or PyTorch?", "PyTorch is what most"),
    ],
)
def test_faq_answers_carry_their_question_and_never_quote_it(name: str, question: str, answer_start: str) -> None:
    chunks = _chunks(name)
    (c,) = [c for c in chunks if c.question == question]
    assert c.kind == "answer"
    assert c.text.startswith(answer_start)
    assert all(question not in x.text for x in chunks)  # the asker's question is never passage text
    assert question in c.embed_text() and question in c.lexical_text()  # but it is searchable


@pytest.mark.parametrize("suffix", [".md", ".txt"])
def test_question_and_answer_on_one_line(tmp_path: Path, suffix: str) -> None:
    raw = "Q: Is SQL needed for analyst jobs? A: Yes, nearly every posting asks for it.\n\n" \
          "问：需要博士学位吗？答：不需要。\n"
    chunks = chunk_document(load_document(_write(tmp_path / f"oneline{suffix}", raw)))
    assert [(c.question, c.text) for c in chunks] == [
        ("Is SQL needed for analyst jobs?", "Yes, nearly every posting asks for it."),
        ("需要博士学位吗？", "不需要。"),
    ]


def test_numbered_bold_questions_keep_their_number_as_metadata() -> None:
    (c,) = [c for c in _chunks("bold_faq.md") if c.question.startswith("Is it worth")]
    assert c.numbering == "8.45"
    assert "8.45" not in c.text and "8.45" not in c.question
    assert "Yes. Product managers" not in c.text  # another question's answer is another chunk


def test_a_multi_paragraph_answer_stays_with_its_question_and_an_unanswered_question_is_kept() -> None:
    doc = load_document(DATA / "faq_en.md")
    chunks = chunk_document(doc)
    (mlops,) = [c for c in chunks if "MLOps" in c.question]
    assert "Many people also take a cloud certification in that time." in mlops.text
    (unanswered,) = [c for c in chunks if "Which programming language" in c.text]
    assert unanswered.kind == "paragraph" and unanswered.question == ""
    assert "1 question(s) without an answer kept as text" in doc.stripped


def test_chinese_faq_advert_tail_is_removed_and_reported() -> None:
    doc = load_document(DATA / "faq_zh.txt")
    text = "\n".join(c.text for c in chunk_document(doc))
    for marker in ("扫码", "二维码", "领取", "公众号", "知识星球"):  # the tail and the one advert between answers
        assert marker not in text
    assert any("promotional block" in s for s in doc.stripped) and "1 promotional line(s)" in doc.stripped
    (resume,) = [c for c in chunk_document(doc) if c.question == "简历上的项目应该写几个？"]
    assert resume.text.startswith("两到三个就够了")
    assert doc.title == "大模型岗位求职问答"


@pytest.mark.parametrize(
    ("name", "title", "url", "date", "tags"),
    [
        ("pelican.md", "Notes from an MLOps meetup", None, "2025-03-14", ["mlops", "meetup"]),
        ("toml_note.md", "Prompt engineering is a skill, not a job", None, "2024-11-02", ["prompting", "careers"]),
        ("scraped.txt", "Data scientist job description", "https://example.org/jobs/data-scientist", None, []),
        ("book.md", "Careers in Applied Machine Learning", "https://example.org/ml-careers-book", "2025-02-01",
         ["careers", "ml"]),
    ],
)
def test_front_matter_styles_become_metadata(
    name: str, title: str, url: str | None, date: str | None, tags: list[str]
) -> None:
    doc = load_document(DATA / name)
    assert (doc.title, doc.url, doc.date, doc.tags) == (title, url, date, tags)
    text = "\n".join(c.text for c in chunk_document(doc))
    assert not re.search(r"^(Title|Date|Tags|URL Source|title|date)\s*[:=]", text, re.M)


def test_plain_text_headings_and_wrapped_lines() -> None:
    chunks = _chunks("plain_notes.txt")
    assert [c.section for c in chunks] == [("Becoming an AI auditor",), ("Skills",)]
    assert "compliance with regulation. The work combines statistics" in chunks[0].text  # the wrap is re-joined
    assert chunks[1].text.startswith("Auditors need to read model documentation")


def test_every_chunk_sentence_is_verbatim_in_the_documents_plain_text() -> None:
    for path in [*sorted(DATA.iterdir()), *sorted(SEEDS.iterdir())]:
        doc = load_document(path)
        text = plain(doc.raw, path.suffix)
        for c in chunk_document(doc):
            for sentence in split_sentences(c.text):
                assert re.sub(r"\s+", " ", sentence) in text, (path.name, sentence)
                assert quote_in_document(sentence, doc.raw, path.suffix, plain_text=text)


def test_quotes_with_or_without_markup_verify_and_invented_ones_do_not() -> None:
    raw = (DATA / "book.md").read_text(encoding="utf-8")
    assert quote_in_document("**Research scientists** design experiments", raw, ".md")  # raw form
    assert quote_in_document("Research scientists design experiments and write papers about new model", raw, ".md")
    assert quote_in_document("Tools & skills they use daily", raw, ".md")  # entity decoded
    assert not quote_in_document("Research scientists earn twice as much as engineers.", raw, ".md")
    assert not quote_in_document("   ", raw, ".md")


def test_an_html_table_row_verifies_as_the_page_reads_it() -> None:
    page = ("<html><body><main><h1>Routes</h1><p>Three routes into the trade, compared.</p><table>"
            "<tr><th>Route</th><th>Cost</th></tr><tr><td>Bootcamp</td><td>5,000&ndash;20,000 USD</td></tr>"
            "<tr><td>Degree</td><td>over 50,000 USD</td></tr></table></main></body></html>")
    assert quote_in_document("Bootcamp 5,000–20,000 USD", page, ".html")  # the cells one after another
    assert not quote_in_document("Bootcamp 50,000 USD", page, ".html")


def test_the_eval_quote_check_uses_display_text_for_markdown_and_html(tmp_path: Path) -> None:
    from bot.evaluation import SourceTexts

    _write(tmp_path / "page.html", "<html><head><title>Auditors</title></head><body><article><h1>AI auditors</h1>"
           "<p>AI auditors check hiring models for <b>bias</b> &amp; fairness before launch.</p>"
           "<p>Most of them come from risk and compliance teams in large banks.</p></article></body></html>")
    _write(tmp_path / "book.md", (DATA / "book.md").read_text(encoding="utf-8"))
    sources = SourceTexts([tmp_path])
    assert sources.contains("book.md", "**Research scientists** design experiments")
    assert sources.contains("book.md", "Research scientists design experiments and write papers about new model")
    assert sources.contains("page.html", "AI auditors check hiring models for bias & fairness before launch.")
    assert not sources.contains("page.html", "AI auditors are paid more than engineers.")
    assert sources.contains("missing.md", "anything") is None


# --- bad input: still ingested as text, with a one-line note ---------------------------------------------


def _one_line_notes(notes: list[str]) -> None:
    assert all("\n" not in n and 0 < len(n) <= 120 for n in notes), notes


@pytest.mark.parametrize("opener", ["<!-- draft note", "<script>", "<div class='x'>\n<p>"])
def test_unclosed_html_in_markdown_loses_no_text(tmp_path: Path, opener: str) -> None:
    paras = [f"Paragraph {i} explains how analysts become data scientists over time." for i in range(20)]
    doc = load_document(_write(tmp_path / "draft.md", f"# Data careers\n\nIntro.\n\n{opener}\n\n"
                               + "\n\n".join(paras)))
    text = "\n".join(c.text for c in chunk_document(doc))
    assert all(p in text for p in paras)  # nothing lost
    assert "<" not in text
    if not opener.startswith("<div"):  # an unclosed <div> only holds its own paragraph in markdown
        assert any("read as plain text" in n for n in doc.stripped)
    _one_line_notes(doc.stripped)


def test_broken_markdown_keeps_its_text(tmp_path: Path) -> None:
    raw = ("# Careers\n\n**Unclosed bold about prompt engineers who test instructions.\n\n"
           "A [broken link(http://x.example about data roles.\n\n```\nunclosed fence\n\n"
           "Data engineers build pipelines that feed the models.\n")
    doc = load_document(_write(tmp_path / "broken.md", raw))
    text = "\n".join(c.text for c in chunk_document(doc))
    assert "Unclosed bold about prompt engineers who test instructions." in text
    assert "Data engineers build pipelines that feed the models." in text
    assert "**" not in text
    assert any("unclosed code fence" in n for n in doc.stripped)
    _one_line_notes(doc.stripped)


def test_a_qa_page_with_no_answers_keeps_its_questions_as_text(tmp_path: Path) -> None:
    raw = "# Open questions\n\n" + "\n\n".join(
        f"**Q{i}: Will role {i} still exist in five years?**" for i in range(5))
    doc = load_document(_write(tmp_path / "questions.md", raw))
    chunks = chunk_document(doc)
    assert all(c.kind == "paragraph" and c.question == "" for c in chunks)
    assert all(f"Will role {i} still exist in five years?" in "\n".join(c.text for c in chunks) for i in range(5))
    assert "5 question(s) without an answer kept as text" in doc.stripped


# --- property: whatever the markup, chunk sentences are verbatim in the plain text, with no markup left -----

_PIECES = ["**", "__", "_", "*", "> ", "# ", "## ", "1. ", "- ", "[link](http://x.example/a)", "![img](i.png)",
           "`code`", "<b>", "</b>", "<br>", "&amp;", "&lt;", "[^1]", "[^1]: note", "Q: ", "A: ", "问：", "答：",
           "?", "？", "。", ". ", "\n", "\n\n", "| a | b |\n| --- | --- |\n| c | d |", "```\n", "[[page|label]]",
           "{: .x}", "<!-- c -->", "Engineers ship models", "数据科学家分析数据", "Why do teams hire", "8.45 "]


@settings(max_examples=80, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_PIECES), min_size=1, max_size=40), st.sampled_from([".md", ".txt"]))
def test_any_mix_of_markup_gives_clean_verbatim_chunks(tmp_path: Path, pieces: list[str], suffix: str) -> None:
    path = _write(tmp_path / f"doc{suffix}", "".join(pieces))
    try:
        doc = load_document(path)
    except SkipFile:
        return
    text = doc.plain
    for c in chunk_document(doc):
        assert c.text.strip()
        for sentence in split_sentences(c.text):
            assert re.sub(r"\s+", " ", sentence) in text, (sentence, text)
        if c.kind != "code" and not any("`" in p for p in pieces):  # code spans show their text as written
            assert "**" not in c.text and "](" not in c.text and "<b>" not in c.text and "&amp;" not in c.text
