"""The Answer object every surface renders: CLI text, `ask --json`, Slack blocks.

``to_json`` is a contract (see PRODUCT.md): other tools read it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass(frozen=True)
class Citation:
    n: int
    source: str  # document file name
    title: str
    url: str | None
    quote: str  # verbatim span of the source document
    location: str | None = None  # where in the document: section path ("Careers › Research engineer") or "page 3"

    def to_json(self) -> dict[str, Any]:
        return {
            "n": self.n, "source": self.source, "title": self.title, "url": self.url, "quote": self.quote,
            "location": self.location,
        }


@dataclass
class Answer:
    question: str
    text: str  # with [n] markers, each resolvable in citations
    refused: bool
    mode: Literal["llm", "extractive"]
    citations: list[Citation] = field(default_factory=list)
    latency_ms: float = 0.0
    note: str | None = None  # e.g. "The LLM was unavailable; this is the offline answer."
    language: str = "en"
    coverage: float = 0.0  # the answerability model's probability that the documents answer the question
    # Why a refusal refused: a guard ("injection", "secret", "promo", "compose") or "not covered".
    reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answer": self.text,
            "refused": self.refused,
            "mode": self.mode,
            "citations": [c.to_json() for c in self.citations],
            "latency_ms": round(self.latency_ms, 1),
            **({"reason": self.reason} if self.refused and self.reason else {}),
        }
