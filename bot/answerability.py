"""The one answerability decision: do the retrieved passages answer this question?

A small logistic model over a handful of evidence features that mean the same thing on any
corpus and in either language — no topic lists, no company names, no corpus-specific
thresholds in code:

- ``dense_passage``: cosine of the question to the best retrieved passage;
- ``dense_sentence``: cosine of the question to the best candidate sentence;
- ``sentence_terms``: share of the question's content words the best-scoring sentence holds;
- ``passage_terms``: IDF-weighted share of the question's terms one top passage holds;
- ``bm25_norm``: the best BM25 score over the most the question's terms could score;
- ``known_share``: IDF-weighted share of the question's terms found anywhere in the corpus;
- ``agreement``: how much the dense and lexical top-5 rankings agree;
- ``rare_terms``: share of the question's two rarest terms one top passage holds;
- ``foreign``: share of the top 3 passages in the other language than the question (word overlap
  cannot show there, so the model learns how much less of it to expect);
- ``focal_min`` / ``focal_gap``: how well the corpus covers the question's most specific terms
  (bot/concepts.py): 1 for a term it holds, else the cosine to its nearest corpus word in the
  multilingual embedding space; the least-covered focal term, and the shortfall over all the
  question's terms weighted by their specificity. A near-topic question shares the
  corpus's vocabulary but turns on a concept it never mentions ("equity", "落户", an error name).

- ``scope_prior``: what kind of question this is, before any passage is read — a linear score on the question's
  own embedding, learned from labelled questions about more than one corpus (answered vs refused): questions
  about roles, skills, trends and career choices score high; requests for a figure or a procedure that career
  documents do not hold (an exact salary at a named company, a visa date, an error message to debug) and
  off-topic ones score low. It is a prior, not a verdict: the corpus evidence above carries most of the weight,
  and it is the feature that lets a casually worded question whose words the documents do not share be answered
  (``Prior``; the fit that makes it is benchmarks/fit_answerability.py).

An FAQ's question reaches the model through the sentence features: each answer sentence is read and
embedded together with the question it answers (bot/extractive.py).

The coefficients are data (``bot/data/answerability.json``), written by
``benchmarks/fit_answerability.py``, which also records what they were fitted on and the
figures on the questions they were not fitted on. Each embedder has its own model (cosine
scales differ between models); an embedder without one uses the default entry.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

FEATURES = (
    "dense_passage", "dense_sentence", "sentence_terms", "passage_terms",
    "bm25_norm", "known_share", "agreement", "rare_terms", "foreign", "focal_min", "focal_gap", "soft_terms",
    "scope_prior",
)
DATA = Path(__file__).resolve().parent / "data" / "answerability.json"


@dataclass(frozen=True)
class Evidence:
    values: dict[str, float]

    def vector(self) -> list[float]:
        return [float(self.values.get(name, 0.0)) for name in FEATURES]


PRIOR_CLIP = 8.0  # the prior's logit is bounded: it may tip a close decision, never outvote the evidence alone


@dataclass(frozen=True)
class Prior:
    """``scope_prior``: logit = bias + language_bias[question's language] + weights · (the question's embedding),
    clipped to ±PRIOR_CLIP.

    The weights are fitted on embeddings centred on their language's mean (``fit_prior`` in
    benchmarks/fit_answerability.py): a multilingual embedding still says which language a question is in, and a
    prior fitted on raw vectors learns whichever language the fit corpora happen to ask more out-of-scope questions
    in. ``language_bias`` folds each language's centre back in (−weights · centre), so a question is scored against
    questions of its own language. Its weights belong to one embedder (one vector space); a question vector of
    another size scores 0.
    """

    weights: tuple[float, ...]
    bias: float
    l2: float = 0.0
    language_bias: tuple[tuple[str, float], ...] = ()

    @cached_property
    def _array(self) -> Any:
        """The weights as one float vector, built once (a tuple keeps the dataclass hashable)."""
        import numpy as np

        return np.asarray(self.weights, dtype=np.float64)

    @cached_property
    def _language_bias(self) -> dict[str, float]:
        return dict(self.language_bias)

    def logit(self, vector: Any, lang: str = "") -> float:
        import numpy as np

        v = np.asarray(vector, dtype=np.float64).ravel()
        if v.shape[0] != len(self.weights):
            return 0.0
        z = self.bias + self._language_bias.get(lang, 0.0) + float(np.dot(self._array, v))
        return max(-PRIOR_CLIP, min(PRIOR_CLIP, z))

    def to_json(self) -> dict[str, Any]:
        return {"weights": [round(w, 6) for w in self.weights], "bias": round(self.bias, 6), "l2": self.l2,
                **({"language_bias": {k: round(b, 6) for k, b in self.language_bias}} if self.language_bias else {})}

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> Prior:
        return cls(tuple(float(w) for w in obj["weights"]), float(obj["bias"]), float(obj.get("l2", 0.0)),
                   tuple((str(k), float(b)) for k, b in dict(obj.get("language_bias", {})).items()))


@dataclass(frozen=True)
class Model:
    """p(answerable) = logistic(bias + Σ weight·feature); answer at ``threshold``.

    Between ``borderline`` and ``threshold`` the question is neither clearly answerable nor
    clearly out of scope: the LLM writer still sees the passages and may say it cannot answer;
    the offline writer refuses.
    """

    weights: dict[str, float]
    bias: float
    threshold: float = 0.5
    borderline: float = 0.3
    fitted_on: tuple[str, ...] = ()
    notes: dict[str, Any] = field(default_factory=dict)
    prior: Prior | None = None

    def scope_prior(self, question_vector: Any, lang: str = "") -> float:
        """The ``scope_prior`` feature for a question's embedding and language (0 without a prior)."""
        return self.prior.logit(question_vector, lang) if self.prior is not None else 0.0

    def probability(self, evidence: Evidence) -> float:
        pairs = zip(FEATURES, evidence.vector(), strict=True)
        z = self.bias + sum(self.weights.get(name, 0.0) * v for name, v in pairs)
        return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))

    def to_json(self) -> dict[str, Any]:
        return {
            "weights": {k: round(v, 5) for k, v in self.weights.items()},
            "bias": round(self.bias, 5),
            "threshold": self.threshold,
            "borderline": self.borderline,
            "fitted_on": list(self.fitted_on),
            "notes": self.notes,
            **({"prior": self.prior.to_json()} if self.prior is not None else {}),
        }

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> Model:
        return cls(
            weights={str(k): float(v) for k, v in obj["weights"].items()},
            bias=float(obj["bias"]),
            threshold=float(obj.get("threshold", 0.5)),
            borderline=float(obj.get("borderline", 0.3)),
            fitted_on=tuple(obj.get("fitted_on", ())),
            notes=dict(obj.get("notes", {})),
            prior=Prior.from_json(obj["prior"]) if obj.get("prior") else None,
        )


# Used only when the data file is missing (a broken install): dense similarity alone, USE's scale.
_FALLBACK = Model(weights={"dense_passage": 12.0, "dense_sentence": 8.0, "passage_terms": 2.0}, bias=-7.5)


@lru_cache(maxsize=8)
def load(embedder_id: str, path: Path = DATA) -> Model:
    """The model for this embedder, else the file's default, else a dense-only fallback."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return _FALLBACK
    models = data.get("models", {})
    entry = models.get(embedder_id) or models.get(data.get("default", ""))
    return Model.from_json(entry) if entry else _FALLBACK


@dataclass(frozen=True)
class Decision:
    answer: bool  # clearly answerable
    borderline: bool  # not clearly answerable, not clearly out of scope
    probability: float
    evidence: Evidence

    @property
    def reason(self) -> str:
        if self.answer:
            return "answerable"
        return "borderline" if self.borderline else "not covered"


def decide(model: Model, evidence: Evidence) -> Decision:
    p = model.probability(evidence)
    return Decision(p >= model.threshold, model.borderline <= p < model.threshold, p, evidence)


def fit(rows: list[list[float]], labels: list[int], l2: float = 1.0, iterations: int = 50) -> tuple[list[float], float]:
    """Logistic regression by Newton's method with an L2 penalty (not on the bias); standardised inputs;
    the two classes weighted equally (there are far fewer out-of-scope questions).

    Returns weights and bias on the original feature scale.
    """
    import numpy as np

    x = np.asarray(rows, dtype=np.float64)
    y = np.asarray(labels, dtype=np.float64)
    mu, sd = x.mean(axis=0), x.std(axis=0)
    sd[sd < 1e-9] = 1.0
    z = (x - mu) / sd
    a = np.hstack([np.ones((len(z), 1)), z])
    w = np.zeros(a.shape[1])
    pos = max(1.0, float(y.sum()))
    neg = max(1.0, float(len(y) - y.sum()))
    sample = np.where(y > 0.5, len(y) / (2 * pos), len(y) / (2 * neg))
    penalty = np.full(a.shape[1], l2)
    penalty[0] = 0.0
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(a @ w, -60, 60)))
        grad = a.T @ (sample * (p - y)) + penalty * w
        hess = (a * (sample * p * (1 - p))[:, None]).T @ a + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hess, grad)
        w -= step
        if float(np.abs(step).max()) < 1e-8:
            break
    weights = w[1:] / sd
    bias = float(w[0] - (w[1:] * mu / sd).sum())
    return [float(v) for v in weights], bias
