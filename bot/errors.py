"""Every error the bot raises for a user, in one place.

    Exception
    ├── CareerbotError             meant for a user: ``str(error)`` is one line; the CLI exits with ``exit_code``
    │   ├── SlackError        (8)  the Slack token is missing or rejected, or a Slack call failed for good
    │   ├── EvalFileError    (10)  a question-set file for `careerbot eval` is missing or has a bad line
    │   └── StateError       (11)  the shared database cannot be reached or upgraded
    └── knowledge.errors.KnowledgeError   the knowledge package's own (ConfigError, StoreUnavailable, ...)

The command line shows any of ``USER_ERRORS`` as one line (a traceback only with CAREERBOT_DEBUG=1).
Internal errors that never reach a user stay beside the code that raises and catches them (``LLMFailure``
in bot/llm.py, ``Rejected`` in bot/frontdoor.py). Messages never contain secret values.
"""

from __future__ import annotations

from knowledge.errors import KnowledgeError


class CareerbotError(Exception):
    """Base class: an error meant for a user, shown as one line."""

    exit_code = 1


class SlackError(CareerbotError):
    """The Slack token is missing or rejected, or a Slack call failed for good."""

    exit_code = 8


class EvalFileError(CareerbotError):
    """A question-set file for `careerbot eval` is missing or has a bad line."""

    exit_code = 10


class StateError(CareerbotError):
    """The shared database cannot be reached or upgraded."""

    exit_code = 11


USER_ERRORS: tuple[type[Exception], ...] = (CareerbotError, KnowledgeError)
