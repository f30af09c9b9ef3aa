"""The answerability model's data: the shipped coefficients and the scope prior (bot/answerability.py)."""

from __future__ import annotations

import numpy as np

from bot.answerability import DATA, FEATURES, PRIOR_CLIP, Evidence, Model, Prior, decide, load


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def test_prior_scores_only_vectors_of_its_own_space_and_is_bounded() -> None:
    rng = np.random.default_rng(0)
    prior = Prior(tuple(float(x) for x in rng.normal(size=8)), bias=0.5)
    v = _unit(rng.normal(size=8))
    assert prior.logit(v) == 0.5 + float(np.dot(prior.weights, v))
    assert prior.logit(np.ones(16)) == 0.0  # another embedder's vector: no opinion
    strong = Prior(tuple([100.0] * 8), bias=0.0)
    assert strong.logit(np.ones(8)) == PRIOR_CLIP and strong.logit(-np.ones(8)) == -PRIOR_CLIP


def test_model_round_trips_with_its_prior() -> None:
    prior = Prior((0.25, -0.5), bias=-1.0, l2=10.0)
    model = Model({"dense_passage": 2.0, "scope_prior": 1.0}, bias=-1.0, threshold=0.55, prior=prior)
    again = Model.from_json(model.to_json())
    assert again.prior is not None and again.prior.weights == prior.weights and again.prior.l2 == 10.0
    assert again.scope_prior([1.0, 1.0]) == -1.25
    ev = Evidence({"dense_passage": 0.9, "scope_prior": again.scope_prior([1.0, 1.0])})
    assert abs(again.probability(ev) - model.probability(ev)) < 1e-9
    assert Model.from_json({k: v for k, v in model.to_json().items() if k != "prior"}).scope_prior([1.0]) == 0.0


def test_the_prior_scores_a_question_against_its_own_language() -> None:
    # Fitted on embeddings centred per language, the prior carries each language's centre as a bias of its own.
    prior = Prior((0.5, 0.5), bias=0.25, language_bias=(("en", -1.0), ("zh", 0.5)))
    again = Model({"scope_prior": 1.0}, bias=0.0, prior=prior)
    again = Model.from_json(again.to_json())
    assert again.scope_prior([1.0, 1.0], "en") == 0.25 + 1.0 - 1.0
    assert again.scope_prior([1.0, 1.0], "zh") == 0.25 + 1.0 + 0.5
    assert again.scope_prior([1.0, 1.0]) == 0.25 + 1.0  # no language: no centre


def test_a_higher_prior_never_lowers_the_answer_probability() -> None:
    model = load("local:use-multilingual-v3", DATA)
    assert model.weights.get("scope_prior", 0.0) > 0.0
    base = {name: 0.3 for name in FEATURES}
    low = decide(model, Evidence({**base, "scope_prior": -3.0}))
    high = decide(model, Evidence({**base, "scope_prior": 3.0}))
    assert high.probability > low.probability


def test_shipped_model_names_its_fit_and_carries_a_prior_for_the_bundled_embedder() -> None:
    model = load("local:use-multilingual-v3", DATA)
    assert len(model.fitted_on) >= 2 and "test" not in model.fitted_on
    assert model.prior is not None and len(model.prior.weights) == 512  # USE multilingual v3's dimension
    assert "leave_one_corpus_out_cost" in model.notes
