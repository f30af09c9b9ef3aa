"""Answers on a corpus the answerability model and the sentence weights were never fitted on.

tests/corpus/ is our own: a markdown handbook with numbered headings, bold lead-ins, a block quote and a
footnote; a Chinese FAQ with paid-group adverts between the answers; plain-text talk notes; an HTML page
with navigation and a footer. Its questions (tests/corpus/questions.jsonl) are held out from
benchmarks/fit_answerability.py (bot/data/answerability.json names what it was fitted on).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bot.answerability import load
from bot.evaluation import SourceTexts, check_citations, markup_in
from bot.pipeline import Pipeline, build_pipeline
from bot.settings import Settings
from knowledge import contains_advert
from knowledge.base import KnowledgeBase
from knowledge.config import KnowledgeConfig

CORPUS = Path(__file__).parent / "corpus"
QUESTIONS = [json.loads(line) for line in (CORPUS / "questions.jsonl").read_text(encoding="utf-8").splitlines()
             if line.strip()]


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Pipeline:
    data = tmp_path_factory.mktemp("corpus")
    kb = KnowledgeBase(KnowledgeConfig(data_dir=data))
    kb.ingest(sorted(p for p in CORPUS.iterdir() if p.name != "questions.jsonl"))
    return build_pipeline(Settings(data_dir=data, seeds_dir=CORPUS), kb=kb)


def test_the_model_was_not_fitted_on_this_corpus(pipeline: Pipeline) -> None:
    model = load(str(pipeline.kb.embedder.id))
    assert "test" not in model.fitted_on and len(model.fitted_on) >= 2


def test_in_scope_questions_cite_a_right_source_and_read_as_answers(pipeline: Pipeline) -> None:
    inside = [q for q in QUESTIONS if q["kind"] == "in_scope"]
    right = refused = facts = with_facts = 0
    for q in inside:
        a = pipeline.answer(q["q"])
        if a.refused:
            refused += 1
            continue
        right += any(c.source in q["sources"] for c in a.citations)
        hay = " ".join([a.text, *(c.quote for c in a.citations)]).lower()
        if q["facts"]:
            with_facts += 1
            facts += all(f.lower() in hay for f in q["facts"])
        assert markup_in(a.text) == [], a.text
        assert not contains_advert(a.text), a.text  # the FAQ's adverts never come back
        assert 1 <= len(a.citations) <= 4
        _, bad, markers_ok = check_citations(a, SourceTexts([CORPUS]))  # verbatim in the document's text
        assert bad == [] and markers_ok, (bad, a.text)
    assert refused <= 2, f"{refused} of {len(inside)} in-scope questions refused"
    assert right >= 0.9 * len(inside), f"{right} of {len(inside)} answers cite a right source"
    assert facts >= 0.5 * with_facts, f"expected fact in {facts} of {with_facts} answers"


def test_out_of_scope_and_adversarial_questions_are_refused(pipeline: Pipeline) -> None:
    outside = [q for q in QUESTIONS if q["kind"] != "in_scope"]
    answered = [q["q"] for q in outside if not pipeline.answer(q["q"]).refused]
    assert len(answered) <= 1, answered
    for q in outside:
        if q["kind"] == "adversarial":
            assert pipeline.answer(q["q"]).refused, q["q"]


def test_section_path_is_the_location_not_part_of_the_sentence(pipeline: Pipeline) -> None:
    a = pipeline.answer("How is an evaluation engineer different from a data scientist?")
    assert not a.refused
    assert not re.search(r"\d+\.\d+", a.text), a.text  # no "1.1.2" glued to a sentence
    located = [c for c in a.citations if c.source == "evaluation-careers-handbook.md"]
    assert located and all(c.location for c in located)
    assert any("Evaluation engineer vs. data scientist" in (c.location or "") for c in located), located


def test_faq_answer_is_quoted_not_the_question(pipeline: Pipeline) -> None:
    a = pipeline.answer("做评测岗位要会编程吗")
    assert not a.refused and a.language == "zh"
    assert all(c.source == "faq-zh.md" for c in a.citations), a.citations
    assert all("问" not in c.quote and not c.quote.endswith(("？", "?")) for c in a.citations)
    assert "Python" in a.text


def test_english_question_answered_from_a_chinese_source_says_so(pipeline: Pipeline) -> None:
    # Only the Chinese FAQ answers this (可以 … AI训练师更看重写作能力): the answer says in English that it quotes
    # its source in the original language. (Whether a cross-language question is answered at all is counted in
    # test_in_scope_questions_cite_a_right_source_and_read_as_answers, over the corpus's questions.)
    a = pipeline.answer("Can someone with a humanities background become an AI trainer?")
    assert not a.refused, a.reason
    assert a.text.startswith("According to the sources (quoted in their original language)")
    assert any(c.source == "faq-zh.md" for c in a.citations)


def test_refusal_names_what_this_corpus_covers_in_the_askers_language(pipeline: Pipeline) -> None:
    en = pipeline.answer("Which laptop should I buy for a data science course?")
    zh = pipeline.answer("上海哪家火锅店最好吃？")
    assert en.refused and zh.refused
    assert "Model Evaluation Careers" in en.text or "AI Safety" in en.text, en.text
    assert zh.text.startswith("我的资料无法回答") and "涉及" in zh.text
    assert "roles are growing" not in en.text  # not the seeds' topics


def test_scope_can_be_set_in_settings(pipeline: Pipeline, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, seeds_dir=CORPUS, scope="evaluation and ML platform careers")
    custom = build_pipeline(settings, kb=pipeline.kb)
    a = custom.answer("上海哪家火锅店最好吃？")
    assert a.refused and "evaluation and ML platform careers" in a.text


def test_a_bold_lead_in_is_not_shown_as_a_sentence_of_its_own(pipeline: Pipeline) -> None:
    a = pipeline.answer("Who decides whether a new model version can ship?")
    assert not a.refused
    assert "Owning release gates." not in a.text and "Owning release gates [" not in a.text, a.text
    assert any("release gates" in c.location or "thresholds" in c.quote for c in a.citations if c.location) \
        or "thresholds" in a.text
