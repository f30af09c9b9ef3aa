"""Every error a user can cause, in one hierarchy.

The CLI prints ``str(error)`` as one line and exits non-zero; nothing else should
be caught at the top level. Messages never contain secret values.
"""

from __future__ import annotations


class CareerbotError(Exception):
    """Base class: an error meant for a user, shown as one line."""

    exit_code = 1


class ConfigError(CareerbotError):
    """A setting is missing or invalid (token, port, embeddings kind...)."""

    exit_code = 2


class StoreUnavailable(CareerbotError):
    """The Chroma server cannot be reached, or the local store cannot be opened."""

    exit_code = 3


class EmbedderMismatch(CareerbotError):
    """The collection was built with a different embedder than the one configured."""

    exit_code = 4


class EmbedderError(CareerbotError):
    """The embedding model could not be loaded or called."""

    exit_code = 5


class IngestError(CareerbotError):
    """A path given to ingest does not exist or cannot be read."""

    exit_code = 6


class LLMError(CareerbotError):
    """The OpenAI-compatible endpoint failed after retries (callers fall back)."""

    exit_code = 7


class SlackError(CareerbotError):
    """The Slack token is missing or rejected, or a Slack call failed for good."""

    exit_code = 8


class RoleNotFound(CareerbotError):
    """No role in the catalog matches; carries suggestions."""

    exit_code = 9

    def __init__(self, query: str, suggestions: list[str]) -> None:
        self.query = query
        self.suggestions = suggestions
        hint = f" Did you mean: {', '.join(suggestions)}?" if suggestions else ""
        super().__init__(f"No role matches {query!r}.{hint}")


class EvalFileError(CareerbotError):
    """A question-set file for `careerbot eval` is missing or has a bad line."""

    exit_code = 10
