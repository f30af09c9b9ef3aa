"""Showing an LLM answer in Slack while it is written, then replacing it with the verified answer.

``LiveReply`` takes the model's text piece by piece (``push``) and shows it in the thread:

* with Slack's chat streaming (``chat.startStream`` / ``chat.appendStream`` / ``chat.stopStream``)
  where the workspace has it — the first piece starts the stream at once, later ones are sent
  in batches at most every ``STREAM_INTERVAL_S``;
* else as a message that ``chat.update`` rewrites, at most every ``UPDATE_INTERVAL_S`` (Slack's
  per-channel update rate);
* else (nothing postable) not at all.

``finish`` ends the stream and rewrites that same message with the final, verified text and its
Sources block — the citation check may have dropped or re-cited sentences, and a stream that broke
ends as the offline answer — so the thread holds exactly one answer, never a half sentence. When no
text was shown (offline mode, refusals) ``finish`` just posts the answer.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from .markup import escape

log = logging.getLogger("careerbot.slack")

STREAM_INTERVAL_S = 0.5
UPDATE_INTERVAL_S = 1.2
LIVE_CHARS = 3500  # what a chat.update shows while writing (the final message has no such cut)
WRITING_MARK = " …"


def slack_error(exc: Exception) -> str:
    """A Slack client failure as one short word for logs: Slack's error code, or the exception's type."""
    if isinstance(exc, SlackApiError) and exc.response is not None:
        try:
            return str(exc.response.get("error") or f"http_{exc.response.status_code}")
        except Exception:
            return "slack_api_error"
    return type(exc).__name__


def reply_ts(resp: Any) -> str | None:
    """The ``ts`` of a Slack Web API response, or None."""
    try:
        value = resp.get("ts")
    except Exception:
        return None
    return str(value) if value else None


class LiveReply:
    """One answer shown while it is written; thread-safe (``push`` may come from the writer's thread)."""

    def __init__(self, client: WebClient, channel: str, thread_ts: str, *, user_id: str | None = None,
                 team_id: str | None = None, use_streaming: bool = True) -> None:
        self.client = client
        self.channel = channel
        self.thread_ts = thread_ts
        self.user_id = user_id
        self.team_id = team_id
        self.mode = "new" if use_streaming else "update-new"  # new | stream | update | off (+ "update-new")
        self.ts: str | None = None
        self.shown = ""  # all text pushed so far
        self.pending = ""  # pushed but not yet sent (stream mode)
        self._last = 0.0
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None  # sends what is pending when the model pauses
        self._done = False
        self.errors: list[str] = []

    # -- while writing ---------------------------------------------------------------------------
    def push(self, delta: str) -> None:
        if not delta:
            return
        with self._lock:
            self.shown += delta
            self.pending += delta
            now = time.monotonic()
            if self.mode == "new":
                self._start_stream()
            elif self.mode == "update-new":
                self._post_placeholder()
            elif self.mode in ("stream", "update"):
                interval = STREAM_INTERVAL_S if self.mode == "stream" else UPDATE_INTERVAL_S
                if now - self._last >= interval:
                    self._flush()
                elif self._timer is None:  # the rest goes out on time even if the model pauses
                    self._timer = threading.Timer(self._last + interval - now, self._on_timer)
                    self._timer.daemon = True
                    self._timer.start()

    def _on_timer(self) -> None:
        with self._lock:
            self._timer = None
            if not self._done and self.pending:
                self._flush()

    def _flush(self) -> None:
        if self.mode == "stream":
            self._append()
        elif self.mode == "update":
            self._update_live()

    def _start_stream(self) -> None:
        kwargs: dict[str, Any] = {"channel": self.channel, "thread_ts": self.thread_ts,
                                  "markdown_text": escape(self.pending)}
        if self.user_id:
            kwargs["recipient_user_id"] = self.user_id
        if self.team_id:
            kwargs["recipient_team_id"] = self.team_id
        try:
            resp = self.client.chat_startStream(**kwargs)
            self.ts = str(resp["ts"])
            self.mode, self.pending, self._last = "stream", "", time.monotonic()
        except (SlackClientError, KeyError, TypeError) as exc:
            # No streaming here (older workspace, missing scope, not a thread): edit a message instead.
            self.errors.append(f"chat.startStream:{slack_error(exc)}")
            log.info("chat streaming unavailable (%s); falling back to chat.update", slack_error(exc))
            self._post_placeholder()

    def _post_placeholder(self) -> None:
        try:
            resp = self.client.chat_postMessage(channel=self.channel, thread_ts=self.thread_ts,
                                                text=escape(self.shown[:LIVE_CHARS].rstrip()) + WRITING_MARK,
                                                unfurl_links=False, unfurl_media=False)
            self.ts = str(resp["ts"])
            self.mode, self.pending, self._last = "update", "", time.monotonic()
        except (SlackClientError, KeyError, TypeError) as exc:
            self.errors.append(f"chat.postMessage:{slack_error(exc)}")
            self.mode = "off"  # the final answer is still posted by finish()

    def _append(self) -> None:
        assert self.ts is not None
        try:
            self.client.chat_appendStream(channel=self.channel, ts=self.ts, markdown_text=escape(self.pending))
            self.pending, self._last = "", time.monotonic()
        except SlackClientError as exc:
            self.errors.append(f"chat.appendStream:{slack_error(exc)}")
            self.mode = "update"  # keep showing progress by editing the streamed message
            self._update_live()

    def _update_live(self) -> None:
        assert self.ts is not None
        try:
            self.client.chat_update(channel=self.channel, ts=self.ts,
                                    text=escape(self.shown[:LIVE_CHARS].rstrip()) + WRITING_MARK)
            self.pending, self._last = "", time.monotonic()
        except SlackClientError as exc:
            self.errors.append(f"chat.update:{slack_error(exc)}")
            self.mode = "frozen"  # stop editing; finish() still replaces or re-posts

    # -- the verified answer ---------------------------------------------------------------------------
    def finish(self, text: str, blocks: list[dict[str, Any]], *, metadata: dict[str, Any] | None = None) -> str | None:
        """Replace what was shown with the final message (or post it); None on success, else the Slack error.

        ``metadata`` goes on the final message (the job id a recovering worker looks for).
        """
        extra: dict[str, Any] = {"metadata": metadata} if metadata else {}
        with self._lock:
            self._done = True
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            if self.ts is not None and self.mode == "stream":
                try:  # the rest of the model's text first, so the stream ends whole before it is replaced
                    self.client.chat_stopStream(channel=self.channel, ts=self.ts,
                                                markdown_text=escape(self.pending) if self.pending else None)
                except SlackClientError as exc:
                    self.errors.append(f"chat.stopStream:{slack_error(exc)}")
            if self.ts is not None:
                try:
                    self.client.chat_update(channel=self.channel, ts=self.ts, text=text, blocks=blocks, **extra)
                    return None
                except SlackClientError as exc:
                    self.errors.append(f"chat.update:{slack_error(exc)}")
                    try:  # the half-written message must not stay as if it were the answer
                        self.client.chat_delete(channel=self.channel, ts=self.ts)
                    except SlackClientError:
                        pass
                    self.ts = None
            return self._post(text, blocks, extra)

    def _post(self, text: str, blocks: list[dict[str, Any]], extra: dict[str, Any]) -> str | None:
        kwargs: dict[str, Any] = {"channel": self.channel, "thread_ts": self.thread_ts, "text": text,
                                  "unfurl_links": False, "unfurl_media": False, **extra}
        try:
            resp = self.client.chat_postMessage(blocks=blocks, **kwargs)
            self.ts = reply_ts(resp)
            return None
        except SlackApiError as exc:
            error = slack_error(exc)
            if error in ("invalid_blocks", "invalid_blocks_format", "msg_too_long"):
                try:
                    resp = self.client.chat_postMessage(**{**kwargs, "text": text[:3000]})
                    self.ts = reply_ts(resp)
                    return None
                except SlackClientError as exc2:
                    error = slack_error(exc2)
            return error
        except SlackClientError as exc:
            return slack_error(exc)
