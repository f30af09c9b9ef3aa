"""The LLM writer: chat completions on any OpenAI-compatible server, with bounded retries.

The openai client's own retries are off (``max_retries=0``) so that tenacity alone
decides: rate limits (honouring Retry-After), timeouts, connection errors and 5xx are
retried with backoff until ``llm_total_timeout_s`` is spent; every other failure, and
an empty or malformed reply, ends the attempt at once. The writer never raises: it
returns (draft, None) or (None, reason) and the pipeline falls back to the offline
answer.

One writer is shared by every worker thread, so it keeps no per-call state: the number of
attempts travels with the result (``Completion.attempts``) or the failure
(``LLMFailure.attempts``). With ``on_delta`` the reply is streamed (``stream=True``) and
each new piece of visible text is handed over as it arrives; once text has been handed
over, a broken stream is not retried (the listener already saw the start of it) — the
pipeline answers offline instead.
"""

from __future__ import annotations

import email.utils
import logging
import random
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from knowledge.retrieval import Passage

from . import prompts
from .citations import CitationChecker
from .extractive import Draft
from .similarity import SentenceVectors

if TYPE_CHECKING:
    from openai import OpenAI
    from openai.types.chat import ChatCompletionMessageParam

    from .settings import Settings

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
MAX_BACKOFF_S = 8.0
_THINK_RE = re.compile(r"<think>.*?</think>", re.S | re.I)
_OPEN_THINK_RE = re.compile(r"<think>", re.I)

Delta = Callable[[str], None]


@dataclass(frozen=True)
class Completion:
    """The model's reply and how many attempts it took."""

    text: str
    attempts: int


class LLMFailure(Exception):
    """An attempt that produced no usable reply; ``retryable`` says whether to try again."""

    def __init__(self, reason: str, *, retryable: bool, retry_after: float | None = None, attempts: int = 0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable
        self.retry_after = retry_after
        self.attempts = attempts  # set on the failure that ends a run: how many attempts were made


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

    def __init__(self, client: OpenAI, model: str, *, timeout_s: float = 20.0, total_timeout_s: float = 45.0) -> None:
        self.client = client
        self.model = model
        self.timeout_s = timeout_s
        self.total_timeout_s = total_timeout_s

    @classmethod
    def from_settings(cls, settings: Settings, client: OpenAI | None = None) -> LLMWriter:
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
        return self.run(messages).text

    def run(self, messages: list[dict[str, str]], *, on_delta: Delta | None = None) -> Completion:
        """The reply and its attempt count, retried within the total time budget; raises LLMFailure.

        With ``on_delta`` the reply is streamed and its visible text (``<think>`` blocks left out)
        handed to ``on_delta`` piece by piece as it arrives.
        """
        from tenacity import RetryCallState, Retrying, retry_if_exception

        deadline = time.monotonic() + self.total_timeout_s
        attempts = 0  # local to this call: the writer is shared by worker threads
        last: list[str] = []  # the previous attempt's cause, so "budget spent" still says why

        def attempt() -> str:
            nonlocal attempts
            attempts += 1
            remaining = deadline - time.monotonic()
            if remaining <= 0.05:
                cause = f"{last[-1]}, then " if last else ""
                raise LLMFailure(f"{cause}time budget spent", retryable=False)
            timeout = min(self.timeout_s, remaining)
            if on_delta is not None:
                return self._streamed(messages, timeout, on_delta, last)
            try:
                resp = self._create(messages, timeout)
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
            return _final(content)

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
        try:
            text = retrying(attempt)
        except LLMFailure as exc:
            exc.attempts = attempts
            raise
        return Completion(text, attempts)

    def _streamed(self, messages: list[dict[str, str]], timeout: float, on_delta: Delta, last: list[str]) -> str:
        """One streamed attempt: hands visible text to ``on_delta`` as it comes; the whole reply at the end."""
        sent = 0  # characters of visible text handed over so far
        raw: list[str] = []
        finished = False
        try:
            stream = self._create(messages, timeout, stream=True)
            for chunk in stream:
                choices = getattr(chunk, "choices", None) or []
                if not choices:
                    continue
                choice = choices[0]
                piece = getattr(getattr(choice, "delta", None), "content", None)
                if isinstance(piece, str) and piece:
                    raw.append(piece)
                    visible = _visible("".join(raw))
                    if len(visible) > sent:
                        _hand_over(on_delta, visible[sent:])
                        sent = len(visible)
                if getattr(choice, "finish_reason", None):
                    finished = True
        except Exception as exc:
            failure = _classify(exc)
            if sent:  # the reader saw the start of this reply: no retry, the pipeline answers offline
                failure = LLMFailure(f"stream broke after {sent} characters ({failure.reason})", retryable=False)
            last.append(failure.reason)
            raise failure from None
        if not finished:
            reason = f"stream ended without finishing after {sent} characters"
            last.append(reason)
            raise LLMFailure(reason, retryable=False)
        return _final("".join(raw))

    def _create(self, messages: list[dict[str, str]], timeout: float, *, stream: bool = False) -> Any:
        """One chat-completions request with the writer's settings (a stream of chunks when ``stream``)."""
        return self.client.chat.completions.create(
            model=self.model,
            messages=_params(messages),
            temperature=0.2,
            max_tokens=700,
            timeout=timeout,
            stream=stream,
        )

    def write(
        self, question: str, passages: Sequence[Passage], history: Sequence[str], vectors: SentenceVectors, lang: str,
        *, on_delta: Delta | None = None,
    ) -> tuple[Draft | None, str | None]:
        """(checked draft, None) or (None, why it failed); ``on_delta`` streams the unchecked reply."""
        messages = prompts.build_messages(question, passages, history)
        try:
            reply = self.run(messages, on_delta=on_delta).text
        except LLMFailure as exc:
            return None, f"{exc.reason} after {exc.attempts} attempt(s)"
        except Exception as exc:  # never let the LLM path take the answer down
            return None, f"unexpected {type(exc).__name__}"
        text, citations = CitationChecker(vectors).check(reply, passages)
        if not text.strip():
            return None, "reply had no supported content"
        return Draft(text, citations, 0.0, len(citations)), None


def _final(reply: str) -> str:
    """The reply without any <think> block; an empty one is a failure (the pipeline answers offline)."""
    content = _THINK_RE.sub("", reply).strip()
    if not content:
        raise LLMFailure("empty reply", retryable=False)
    return content


def _params(messages: list[dict[str, str]]) -> list[ChatCompletionMessageParam]:
    """The role/content messages bot/prompts.py builds, as the openai client types them."""
    return cast("list[ChatCompletionMessageParam]", messages)


def _visible(raw: str) -> str:
    """The part of a partial reply a reader may see: finished ``<think>`` blocks removed, an open one cut off."""
    text = _THINK_RE.sub("", raw)
    m = _OPEN_THINK_RE.search(text)
    if m:
        text = text[: m.start()]
    # a "<thi" at the very end may be the start of a think tag: hold it back until it is known
    tail = text.rfind("<")
    if tail != -1 and "<think>".startswith(text[tail:].lower()):
        text = text[:tail]
    return text.lstrip()


def _hand_over(on_delta: Delta, text: str) -> None:
    """A listener's trouble (Slack down) must not break the model's stream."""
    try:
        on_delta(text)
    except Exception as exc:
        log.warning("stream listener failed: %s", type(exc).__name__)
