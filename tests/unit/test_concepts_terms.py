"""Focal terms: the question's specific words come first, by general-language frequency (no list of ours)."""

from __future__ import annotations

from bot.concepts import focal_terms, ranked_terms, specificity


def test_the_rare_concept_outranks_the_common_words() -> None:
    ranked = ranked_terms("How much equity should I ask for in my new job?")
    assert ranked[0] == "equity"
    assert "how" not in ranked and "should" not in ranked  # stopwords are no terms


def test_unknown_identifiers_are_the_most_specific() -> None:
    assert specificity("ImagePullBackOff".lower()) > specificity("kubernetes") > specificity("job")


def test_chinese_terms_are_ranked_too() -> None:
    ranked = ranked_terms("实习生转正以后能落户吗")
    assert "落户" in ranked[:2]
    assert all(len(t) >= 2 for t in ranked)


def test_focal_terms_keep_at_least_the_most_specific_one() -> None:
    assert focal_terms(ranked_terms("what is a job")) == ["job"]
    assert len(focal_terms(ranked_terms("sourdough starter hydration ratio kneading technique"))) == 3
