"""The general Chinese↔English lexicon (knowledge/lexicon.py, CC-CEDICT from the installed package): BM25 reaches text
in the other language through any dictionary word, not only the curated glossary's career concepts. Our own text."""

from __future__ import annotations

from pathlib import Path

from knowledge import lexicon
from knowledge.lexicon import other_words, specific_tokens, translations
from knowledge.retrieval import LexicalIndex
from knowledge.text import tokenize

DOCS = [
    "Roles in AI governance keep growing as more companies ship models.",
    "Warehouse robots carry shelves to the pickers, who walk less every shift.",
    "仓库里的机器人把货架搬到拣货员面前。",
]


def _index() -> LexicalIndex:
    return LexicalIndex([tokenize(d) for d in DOCS])


def test_a_chinese_question_word_finds_english_text() -> None:
    question = "仓库会越来越自动化吗"  # 仓库: warehouse, a word the career glossary does not have
    scores = _index().question_scores(question, tokenize(question))
    assert scores[1] > 0 and scores[0] == 0, scores


def test_an_english_question_word_finds_chinese_text() -> None:
    question = "are warehouses hiring?"
    scores = _index().question_scores(question, tokenize(question))
    assert scores[2] > 0 and scores[0] == 0, scores


def test_a_word_with_many_senses_shares_one_words_weight() -> None:
    weights = translations("前景", tokenize("前景"))  # foreground, vista, prospects, perspective...
    assert len(weights) > 1 and abs(sum(weights.values()) - 1.0) < 1e-6
    assert "ethic" in other_words("伦理")


def test_only_words_specific_in_general_language_cross_languages() -> None:
    # "people" -> 人们 let an English question about illustrators ground an unrelated Chinese sentence that mentions
    # people; only words rarer than about 100 per million words of general text are looked up.
    question = "is there a place for people like me, an illustrator?"
    tokens = specific_tokens(question)
    assert tokenize("illustrator")[0] in tokens
    assert not set(tokenize("place people")) & set(tokens)
    assert "人们" not in translations(question, tokenize(question))


def test_a_single_chinese_character_is_not_looked_up() -> None:
    # 越来越 ("more and more") also segments to 越, whose dictionary senses are Vietnam and "to exceed".
    question = "大公司是不是越来越不愿意公开模型细节了"
    assert not any(len(t) == 1 for t in specific_tokens(question))
    assert "vietnam" not in translations(question, tokenize(question))


def test_the_parsed_dictionary_is_kept_in_the_data_dir_and_a_bad_copy_is_rebuilt(tmp_path: Path) -> None:
    # Parsing CC-CEDICT takes about a second of every cold start; the parsed copy in CAREERBOT_DATA_DIR/cache does not.
    parsed = lexicon._cached(tmp_path)
    (copy,) = tmp_path.glob("cedict-*.pickle")
    assert lexicon._cached(tmp_path) == parsed
    copy.write_bytes(b"not a pickle")
    assert lexicon._cached(tmp_path) == parsed  # a bad file is ignored, and written anew
    assert lexicon._cached(tmp_path) == parsed and copy.read_bytes() != b"not a pickle"
