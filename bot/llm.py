"""The LLM writer: chat completions on any OpenAI-compatible server, with bounded retries.

The openai client's own retries are off (``max_retries=0``) so that tenacity alone
decides: rate limits (honouring Retry-After), timeouts, connection errors and 5xx are
retried with backoff until ``llm_total_timeout_s`` is spent; every other failure, and
an empty or malformed reply, ends the attempt at once. The writer never raises: it
returns (draft, None) or (None, reason) and the pipeline falls back to the offline
answer.
"""

from __future__ import annotations

import email.utils
import logging
import random
import re
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from knowledge.retrieval import Passage

from . import prompts
from .citations import CitationChecker
from .extractive import Draft
from .similarity import SentenceVectors

if TYPE_CHECKING:
    from .settings import Settings

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
MAX_BACKOFF_S = 8.0
_THINK_RE = re.compile(r"<think>.*?</think>", re.S | re.I)


class LLMFailure(Exception):
    """An attempt that produced no usable reply; ``retryable`` says whether to try again."""

    def __init__(self, reason: str, *, retryable: bool, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable
        self.retry_after = retry_after


def retry_after_seconds(headers: Any) -> float | None:
    """Seconds to wait from Retry-After (seconds or HTTP date) or retry-after-ms; None when absent."""
    if headers is None:
        return None
    try:
        ms = headers.get("retry-after-ms")
        if ms:
            return max(0.0, float(ms) / 1000.0)
        raw = headers.get("retry-after")
    except Exception:
        return None
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _classify(exc: Exception) -> LLMFailure:
    """Map an openai client exception to retryable or not, keeping Retry-After."""
    import openai

    if isinstance(exc, openai.APITimeoutError):
        return LLMFailure("timeout", retryable=True)
    if isinstance(exc, openai.APIConnectionError):
        return LLMFailure("connection error", retryable=True)
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        after = retry_after_seconds(getattr(exc.response, "headers", None))
        if status == 429 or status == 408 or status == 409 or status >= 500:
            return LLMFailure(f"HTTP {status}", retryable=True, retry_after=after)
        return LLMFailure(f"HTTP {status}", retryable=False)
    return LLMFailure(f"bad reply ({type(exc).__name__})", retryable=False)


class LLMWriter:
    """Writes a cited answer with a chat model, then runs the citation check on it."""

    def __init__(self, client: Any, model: str, *, timeout_s: float = 20.0, total_timeout_s: float = 45.0) -> None:
        self.client = client
        self.model = model
        self.timeout_s = timeout_s
        self.total_timeout_s = total_timeout_s
        self.last_attempts = 0

    @classmethod
    def from_settings(cls, settings: Settings, client: Any = None) -> LLMWriter:
        if client is None:
            from openai import OpenAI

            client = OpenAI(
                api_key=settings.openai_api_key or "not-needed",
                base_url=settings.openai_base_url or None,
                max_retries=0,
                timeout=settings.llm_timeout_s,
            )
        return cls(client, settings.chat_model, timeout_s=settings.llm_timeout_s,
                   total_timeout_s=settings.llm_total_timeout_s)

    def complete(self, messages: list[dict[str, str]]) -> str:
        """The model's reply text, retried within the total time budget; raises LLMFailure."""
        from tenacity import RetryCallState, Retrying, retry_if_exception

        deadline = time.monotonic() + self.total_timeout_s
        self.last_attempts = 0
        last: list[str] = []  # the previous attempt's cause, so "budget spent" still says why

        def attempt() -> str:
            self.last_attempts += 1
            remaining = deadline - time.monotonic()
            if remaining <= 0.05:
                cause = f"{last[-1]}, then " if last else ""
                raise LLMFailure(f"{cause}time budget spent", retryable=False)
            try:
                resp = self.client.chat.completions.create(
                    model=self.model,
                    messages=messages,
                    temperature=0.2,
                    max_tokens=700,
                    timeout=min(self.timeout_s, remaining),
                )
            except Exception as exc:  # the openai client raises its own hierarchy
                failure = _classify(exc)
                last.append(failure.reason)
                raise failure from None
            try:
                content = resp.choices[0].message.content
            except (AttributeError, IndexError, TypeError):
                raise LLMFailure("malformed reply", retryable=False) from None
            if not isinstance(content, str):
                raise LLMFailure("empty reply", retryable=False)
            content = _THINK_RE.sub("", content).strip()
            if not content:
                raise LLMFailure("empty reply", retryable=False)
            return content

        def wait(state: RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            after = exc.retry_after if isinstance(exc, LLMFailure) else None
            backoff = min(MAX_BACKOFF_S, 0.5 * 2 ** (state.attempt_number - 1)) * (0.75 + 0.5 * random.random())
            delay = after if after is not None else backoff
            return max(0.0, min(delay, deadline - time.monotonic()))

        def stop(state: RetryCallState) -> bool:
            if state.attempt_number >= MAX_ATTEMPTS:
                return True
            exc = state.outcome.exception() if state.outcome else None
            remaining = deadline - time.monotonic()
            after = exc.retry_after if isinstance(exc, LLMFailure) else None
            # Waiting longer than the budget allows only delays the fallback.
            return remaining <= 0.1 or (after is not None and after >= remaining)

        retrying = Retrying(
            retry=retry_if_exception(lambda e: isinstance(e, LLMFailure) and e.retryable),
            wait=wait,
            stop=stop,
            reraise=True,
        )
        return retrying(attempt)

    def write(
        self, question: str, passages: Sequence[Passage], history: Sequence[str], vectors: SentenceVectors, lang: str
    ) -> tuple[Draft | None, str | None]:
        """(checked draft, None) or (None, why it failed)."""
        messages = prompts.build_messages(question, passages, history)
        try:
            reply = self.complete(messages)
        except LLMFailure as exc:
            return None, f"{exc.reason} after {self.last_attempts} attempt(s)"
        except Exception as exc:  # never let the LLM path take the answer down
            return None, f"unexpected {type(exc).__name__}"
        text, citations = CitationChecker(vectors).check(reply, passages)
        if not text.strip():
            return None, "reply had no supported content"
        return Draft(text, citations, 0.0, len(citations)), None
