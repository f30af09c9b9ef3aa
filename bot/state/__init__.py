"""Shared state for every replica (claims, durable jobs, answers and votes, rate limits); see ``store``."""

from .runner import JobRunner
from .store import (
    Admission,
    Job,
    RatedAnswer,
    State,
    StateError,
    Summary,
    Verdict,
    Vote,
    default_url,
    normalise_url,
    safe_url,
)

__all__ = ["Admission", "Job", "JobRunner", "RatedAnswer", "State", "StateError", "Summary", "Verdict", "Vote",
           "default_url", "normalise_url", "safe_url"]
