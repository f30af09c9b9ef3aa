"""The Slack app: bolt listeners that record the work durably, ack, and leave the answering to workers.

Listeners never retrieve or call the LLM: they filter (bots, edits, our own messages), claim the event id
and message key in the shared store (exactly once across replicas), count the shared rate limit, record a
job in the durable queue (``bot.state``) and only then ack — so an acknowledged question survives any
replica dying. Workers (``JobRunner`` threads, here or in another replica) lease jobs, show progress (a
reaction), ask ``Pipeline.answer``, render Block Kit and post through one WebClient that talks to
``settings.slack_api_url`` and retries 429s, 5xx and connection errors. Every reply carries the job id in
its message metadata, so a job taken over after a crash first looks in the thread for a reply that already
reached Slack. Slash commands go to ``bot.role_service`` through ``role_reply``.

Slack's AI app surface: bolt's ``Assistant`` routes ``assistant_thread_started`` (a "greet" job: greeting
and suggested prompts from ``bot.assistant``) and ``assistant_thread_context_changed`` (kept as metadata on
the greeting); a question typed in an assistant thread is an "assistant" job: status, title, the answer —
streamed through ``bot.streaming.LiveReply`` in LLM mode. ``app_home_opened`` is a "home" job that
publishes ``bot.home.home_view``.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from slack_bolt import App, Assistant
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.request import BoltRequest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from knowledge.errors import ConfigError

from . import blocks as bk
from . import prompts
from .assistant import (
    KnowledgeFacts,
    KnowledgeView,
    SlackThreadContexts,
    asks_about_channel,
    context_metadata,
    locale_language,
    may_ask_about_channel,
    question_language,
    title_for,
)
from .errors import SlackError
from .home import FeedbackDigest, FeedbackSource, digest_from_summary, home_view
from .hooks import post_response
from .markup import decode, escape
from .settings import Settings
from .state import Job, JobRunner, State, Verdict
from .streaming import LiveReply, reply_ts, slack_error

if TYPE_CHECKING:
    from .pipeline import Pipeline
    from .role_service import RoleService

log = logging.getLogger("careerbot.slack")
request_log = logging.getLogger("careerbot.requests")

PROGRESS_REACTION = "hourglass_flowing_sand"
HISTORY_MESSAGES = 10
HISTORY_CHARS = 1000
QUESTION_CHARS = 4000
MENTION_LOOKUPS = 10  # users.info calls one answered message may cause, whatever it contains
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,20}$")
COMMANDS = ("/career-role", "/career-roles")
# manifest bot event -> bolt event type it arrives as
EVENTS = {"app_mention": "app_mention", "message.im": "message", "app_home_opened": "app_home_opened",
          "assistant_thread_started": "assistant_thread_started",
          "assistant_thread_context_changed": "assistant_thread_context_changed"}
ASSISTANT_EVENTS = ("assistant_thread_started", "assistant_thread_context_changed")  # bolt's Assistant routes these
CHANNEL_CONTEXT_MESSAGES = 10
CONTEXT_WAIT_S = 10.0  # a context change racing the thread's greeting waits this long for it
FEEDBACK_WINDOW_S = 7 * 86400.0
ALLOWED_SUBTYPES = (None, "thread_broadcast", "file_share")
REJECTED_TOKEN_ERRORS = ("invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired")

CLAIM_TTL_S = 24 * 3600.0  # Slack retries within minutes; a day covers a replica restored from a long outage
ANSWER_EVENT_TYPE = "careerbot_answer"  # message metadata on every reply: {"job": id}


class GatewayErrorRetryHandler(ServerErrorRetryHandler):
    """Also retries 502 and 504: a proxy in front of Slack failing once must not lose an answer."""

    def _can_retry(self, *, state: Any, request: Any, response: Any = None, error: Exception | None = None) -> bool:
        return response is not None and response.status_code in (500, 502, 503, 504)


def make_client(settings: Settings, token: str | None) -> WebClient:
    """A WebClient on ``settings.slack_api_url`` that waits out 429s and retries 5xx and dropped connections."""
    return WebClient(
        token=token,
        base_url=settings.slack_api_url,
        timeout=15,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=2),
            RateLimitErrorRetryHandler(max_retry_count=3),
            GatewayErrorRetryHandler(max_retry_count=2),
        ],
    )


def check_auth(client: WebClient, api_url: str) -> dict[str, Any]:
    """Call auth.test once; a rejected or unreachable token becomes one clear SlackError."""
    try:
        resp = client.auth_test()
    except SlackApiError as exc:
        error = str(exc.response.get("error", "unknown_error")) if exc.response is not None else "unknown_error"
        if error in REJECTED_TOKEN_ERRORS:
            raise SlackError(f"Slack rejected SLACK_BOT_TOKEN ({error}); check your Slack app's bot token") from None
        raise SlackError(f"Slack auth.test failed ({error})") from None
    except (SlackClientError, OSError) as exc:
        raise SlackError(f"cannot reach the Slack API at {api_url} ({type(exc).__name__})") from None
    return dict(resp.data) if isinstance(resp.data, dict) else {}


def require_tokens(settings: Settings, *, socket_mode: bool) -> None:
    """Missing tokens are a ConfigError naming the variable (never its value)."""
    if not settings.slack_bot_token:
        raise ConfigError("SLACK_BOT_TOKEN is not set (the bot token, xoxb-…, from your Slack app's OAuth page)")
    if not socket_mode and not settings.slack_signing_secret:
        raise ConfigError("SLACK_SIGNING_SECRET is not set (needed to verify requests in HTTP mode)")
    if socket_mode and not settings.slack_app_token:
        raise ConfigError("SLACK_APP_TOKEN is not set (the app-level token, xapp-…, needed for Socket Mode)")


def _header(request: Any, name: str) -> str | None:
    headers = getattr(request, "headers", None) or {}
    value = headers.get(name)
    if isinstance(value, list | tuple):
        return str(value[0]) if value else None
    return str(value) if value is not None else None


class SlackBot:
    """Holds the bolt App, the Web API client, the shared state and the job runner.

    ``workers=0`` runs no answering threads here (a process that only acknowledges); the jobs it records
    are answered by the runners of other processes sharing the database.
    """

    def __init__(
        self,
        settings: Settings,
        pipeline: Pipeline,
        *,
        auth: dict[str, Any],
        client: WebClient | None = None,
        state: State | None = None,
        feedback_summary: FeedbackSource | None = None,
        socket_mode: bool = False,
        workers: int = 4,
        lease_s: float | None = None,
        start: bool = True,
    ) -> None:
        self.settings = settings
        self.pipeline = pipeline
        self.auth = auth
        self.bot_user_id: str | None = auth.get("user_id")
        self.bot_id: str | None = auth.get("bot_id")
        self.client = client or make_client(settings, settings.slack_bot_token)
        self.state = state or State.from_settings(settings)
        self.runner = JobRunner(self.state, self.job_handlers(), workers=workers,
                                lease_s=lease_s if lease_s is not None else settings.job_lease_s,
                                heartbeat_s=settings.replica_heartbeat_s,
                                dead_after_s=settings.replica_dead_after_s)
        self.pool = self.runner  # pending / accepting / stop_accepting / drain, as the server reads them
        self._roles: RoleService | None = None
        self._roles_lock = threading.Lock()
        self._names: dict[str, str | None] = {}
        self._locales: dict[str, str | None] = {}
        self.knowledge = KnowledgeView(pipeline.kb, self.roles_service) if getattr(pipeline, "kb", None) else None
        self.contexts = SlackThreadContexts(self.client, self.bot_user_id)
        self.feedback_summary: FeedbackSource = feedback_summary or (
            lambda since: digest_from_summary(self.state.feedback_summary(since)))
        self.app = self._build_app(socket_mode)
        if workers > 0 and start:  # last: a job left in the queue may be leased at once, and needs all above
            self.runner.start()

    # -- wiring ----------------------------------------------------------------------
    def _build_app(self, socket_mode: bool) -> App:
        auth = self.auth
        token = self.settings.slack_bot_token

        def authorize() -> AuthorizeResult:
            # auth.test ran once at startup; reuse its answer for every request
            from slack_sdk.web import SlackResponse

            resp = SlackResponse(client=None, http_verb="POST", api_url="", req_args={}, data=auth, headers={},
                                 status_code=200)
            return AuthorizeResult.from_auth_test_response(bot_token=token, auth_test_response=resp)

        app = App(
            client=make_client(self.settings, None),
            signing_secret=self.settings.slack_signing_secret or "",
            authorize=authorize,
            # Socket Mode has no signature; in HTTP mode the front door (bot/frontdoor.py) verified each request
            # on its raw bytes before recording it, and a recovered request may be older than the 5-minute window.
            request_verification_enabled=False,
            # The listeners record the work (claims, the job) and return: bolt must not answer Slack before
            # that is done. With False it acks Events API requests before the listener even runs.
            process_before_response=True,
            listener_executor=ThreadPoolExecutor(max_workers=16, thread_name_prefix="careerbot-ack"),
            logger=_bolt_logger(),
        )
        # The AI app pane: bolt's Assistant takes assistant_thread_started / _context_changed. Questions typed
        # in an assistant thread are plain DM messages with a thread_ts; Assistant has no user_message listener
        # here, so they reach _on_event, which records them durably before the ack like every other question.
        assistant = Assistant(logger=_bolt_logger())
        assistant.thread_started(self._on_thread_started)
        assistant.thread_context_changed(self._on_context_changed)
        app.use(assistant)
        listeners = {"app_mention": self._on_event, "message": self._on_event, "app_home_opened": self._on_home_opened}
        for event_type in sorted(set(EVENTS.values()) - set(ASSISTANT_EVENTS)):
            app.event(event_type)(listeners[event_type])
        for command in COMMANDS:
            app.command(command)(self._on_command)
        actions = {bk.FEEDBACK_UP: self._on_feedback, bk.FEEDBACK_DOWN: self._on_feedback,
                   bk.SHARE_ROLE: self._on_share}
        for action_id in bk.ACTION_IDS:
            app.action(action_id)(actions[action_id])
        return app

    def registered(self) -> dict[str, list[str]]:
        """What this app listens to — the tables ``_build_app`` registers from (the manifest test reads this)."""
        return {"events": sorted(EVENTS), "commands": list(COMMANDS), "actions": list(bk.ACTION_IDS)}

    # -- events ------------------------------------------------------------------------
    def ignore_reason(self, event: dict[str, Any]) -> str | None:
        """Why an event gets no answer (None: answer it)."""
        if event.get("bot_id") or event.get("subtype") == "bot_message" or event.get("bot_profile"):
            return "bot"
        if self.bot_user_id and event.get("user") == self.bot_user_id:
            return "self"
        if event.get("subtype") not in ALLOWED_SUBTYPES:
            return "subtype"
        if event.get("type") == "message" and event.get("channel_type") != "im":
            return "not_dm"
        if not event.get("user") or not event.get("channel") or not event.get("ts"):
            return "incomplete"
        return None

    def _on_event(self, ack: Callable[..., Any], body: dict[str, Any], event: dict[str, Any], request: Any) -> None:
        t0 = time.perf_counter()
        event_id = body.get("event_id")
        retry = _header(request, "x-slack-retry-num")
        channel_type = event.get("channel_type") or ("channel" if event.get("type") == "app_mention" else "unknown")
        fields: dict[str, Any] = {"kind": event.get("type"), "event_id": event_id, "channel_type": channel_type}
        if retry:
            fields["retry"] = retry
        reason = self.ignore_reason(event)
        if reason:
            ack()
            self._log(t0, outcome="ignored", reason=reason, level=logging.DEBUG, **fields)
            return
        # Recorded before the ack (one transaction): a failure here is a 500, and Slack delivers the event again.
        kind = "assistant" if _in_dm_thread(event) else "event"
        admitted = self.state.admit(
            kind, {"event": event, "fields": fields}, notice_kind="notice", claim_ttl_s=CLAIM_TTL_S,
            claims=[f"event:{event_id}" if event_id else None, f"msg:{event.get('channel')}:{event.get('ts')}"],
            user=event.get("user"), limit=self.settings.rate_limit_per_minute, surface="message")
        ack()
        if admitted.duplicate:
            self._log(t0, outcome="duplicate", **fields)
            return
        if admitted.job_id:
            self.runner.wake()
        if admitted.verdict is not Verdict.ALLOW:
            self._log(t0, outcome="rate_limited", notice=admitted.verdict is Verdict.NOTIFY, **fields)

    def job_handlers(self) -> dict[str, Callable[[Job], str | None]]:
        """What the job runner calls, by job kind (each returns the ts of the message it posted, or None)."""
        return {"request": self._run_request, "event": self._run_event, "notice": self._run_notice,
                "command": self._run_command, "command_notice": self._run_command_notice, "share": self._run_share,
                "thanks": self._run_thanks, "assistant": self._run_assistant, "greet": self._run_greet,
                "context": self._run_context, "home": self._run_home}

    def _run_request(self, job: Job) -> str | None:
        """A request the front door verified and recorded: dispatched through bolt, whose listeners record the
        answering jobs (claims, rate limits) exactly as for a request that came straight to them."""
        payload = job.payload if isinstance(job.payload, dict) else {}
        headers: dict[str, str | Sequence[str]] = {str(k): str(v) for k, v in (payload.get("headers") or {}).items()}
        resp = self.app.dispatch(BoltRequest(body=str(payload.get("body") or ""), headers=headers, mode="http"))
        if resp.status >= 500:  # nothing was recorded: fail the job (logged by the runner)
            raise RuntimeError(f"listener failed: HTTP {resp.status}")
        return None

    def _run_event(self, job: Job) -> str | None:
        event = job.payload["event"]
        fields = dict(job.payload.get("fields") or {})
        t0 = _since(job.created)
        if job.recovered and (posted := self._posted_before(job, event, fields, t0)):
            return posted
        return self.answer_event(event, t0=t0, fields=fields, job=job)

    def _posted_before(self, job: Job, event: dict[str, Any], fields: dict[str, Any], t0: float) -> str | None:
        """On a recovered job: the reply an earlier attempt already posted (logged as such), else None."""
        fields["attempt"] = job.attempts
        posted = self._find_reply(event, job.id)
        if posted:
            self._log(t0, outcome="already_answered", **fields)
        return posted

    def _run_notice(self, job: Job) -> str | None:
        event = job.payload["event"]
        if job.recovered and (posted := self._find_reply(event, job.id)):
            return posted
        text = prompts.RATE_LIMITED_TEXT.format(n=self.settings.rate_limit_per_minute)
        _, ts = self._post_ts(str(event["channel"]), self._reply_thread(event), text, bk.notice_blocks(text),
                              job_id=job.id)
        return ts

    def _find_reply(self, event: dict[str, Any], job_id: str) -> str | None:
        """The ts of a reply to ``event`` already posted for ``job_id`` (by a worker that then died), if any."""
        channel, thread = str(event["channel"]), self._reply_thread(event)
        try:
            if thread:
                resp = self.client.conversations_replies(channel=channel, ts=thread, include_all_metadata=True,
                                                         limit=200)
            else:
                resp = self.client.conversations_history(channel=channel, oldest=str(event["ts"]), inclusive=False,
                                                         include_all_metadata=True, limit=200)
        except SlackClientError as exc:  # cannot tell: answer (a duplicate beats a lost answer)
            log.warning("looking for an earlier reply failed: %s", slack_error(exc))
            return None
        for m in resp.get("messages") or []:
            meta = m.get("metadata") or {}
            if meta.get("event_type") == ANSWER_EVENT_TYPE and (meta.get("event_payload") or {}).get("job") == job_id:
                return str(m.get("ts") or "") or None
        return None

    def _reply_thread(self, event: dict[str, Any]) -> str | None:
        """Mentions are answered in their thread; DMs in the DM (in its thread when there is one)."""
        if event.get("type") == "app_mention" and event.get("channel_type") != "im":
            return str(event.get("thread_ts") or event["ts"])
        return event.get("thread_ts")

    def answer_event(self, event: dict[str, Any], *, t0: float | None = None,
                     fields: dict[str, Any] | None = None, job: Job | None = None) -> str | None:
        """The worker's job: reaction, question, history, answer, post, un-reaction, one log line.

        Returns the ts of the posted reply (None when posting failed).
        """
        t0 = t0 if t0 is not None else time.perf_counter()
        fields = dict(fields or {})
        channel, ts = str(event["channel"]), str(event["ts"])
        user = event.get("user")
        thread = self._reply_thread(event)
        job_id = job.id if job else None
        reacted = self._react(channel, ts)
        mode = refused = error = None
        reply_ts: str | None = None
        try:
            names = self.mention_names()
            question = decode(cut_markup(event.get("text") or "", QUESTION_CHARS), bot_user_id=self.bot_user_id,
                              user_name=names)[:QUESTION_CHARS]
            if not question:
                error, reply_ts = self._post_ts(channel, thread, prompts.EMPTY_QUESTION_TEXT,
                                                bk.notice_blocks(prompts.EMPTY_QUESTION_TEXT), job_id=job_id)
                mode = "help"
                return reply_ts
            in_thread = bool(event.get("thread_ts")) and event.get("thread_ts") != ts
            history = self._history(channel, event, names) if in_thread else []
            try:
                answer = self.pipeline.answer(question, history=history or None, user_id=user)
            except Exception as exc:  # the asker must still hear back
                log.error("answer failed: %s", type(exc).__name__, exc_info=self.settings.debug)
                error = f"pipeline:{type(exc).__name__}"
                _, reply_ts = self._post_ts(channel, thread, prompts.ERROR_TEXT, bk.notice_blocks(prompts.ERROR_TEXT),
                                            job_id=job_id)
                return reply_ts
            mode, refused = answer.mode, answer.refused
            try:
                feedback_id: str | None = self.state.record_answer(
                    user=user, channel=channel, channel_type=fields.get("channel_type"), question=question,
                    answer=answer.text, mode=answer.mode, refused=answer.refused, job_id=job_id,
                    sources=[{"n": c.n, "source": c.source, "title": c.title, "url": c.url}
                             for c in getattr(answer, "citations", None) or []],
                )
            except Exception as exc:  # the answer still goes out, just without vote buttons
                log.warning("feedback store failed: %s", type(exc).__name__)
                feedback_id = None
            if job_id and not self.runner.mark_posting(job_id):
                error = "taken_over"  # another replica holds the job now and answers it
                return None
            error, reply_ts = self._post_ts(channel, thread, bk.answer_fallback(answer),
                                            bk.answer_blocks(answer, feedback_id), job_id=job_id)
            if answer.note and not error:
                fields["note"] = "fallback"
            return reply_ts
        finally:
            if reacted:
                self._unreact(channel, ts)
            self._log(t0, outcome="error" if error else "answered", mode=mode, refused=refused, error=error, **fields)

    def _history(self, channel: str, event: dict[str, Any],
                 names: Callable[[str], str | None] | None = None) -> list[str]:
        """Earlier messages of the thread (not the bot's own), oldest first, bounded."""
        try:
            resp = self.client.conversations_replies(channel=channel, ts=str(event["thread_ts"]), limit=50)
        except SlackClientError as exc:
            log.warning("conversations.replies failed: %s", slack_error(exc))
            return []
        ts = float(event["ts"])
        out: list[str] = []
        for m in resp.get("messages") or []:
            try:
                if float(m.get("ts", "0")) >= ts:
                    continue
            except ValueError:
                continue
            if m.get("bot_id") or m.get("user") == self.bot_user_id or m.get("subtype") == "bot_message":
                continue
            text = decode(cut_markup(str(m.get("text") or ""), HISTORY_CHARS), bot_user_id=self.bot_user_id,
                          user_name=names or self.mention_names())
            if text:
                out.append(text[:HISTORY_CHARS])
        return out[-HISTORY_MESSAGES:]

    def mention_names(self, budget: int = MENTION_LOOKUPS) -> Callable[[str], str | None]:
        """A ``<@U…>`` resolver for one message: each id looked up once, at most ``budget`` users.info calls."""
        seen: dict[str, str | None] = {}
        spent = 0

        def resolve(user_id: str) -> str | None:
            nonlocal spent
            if user_id in seen:
                return seen[user_id]
            name: str | None = None
            if user_id in self._names:
                name = self._names[user_id]
            elif spent < budget and _USER_ID.match(user_id):
                spent += 1
                name = self._user_name(user_id)
            seen[user_id] = name
            return name

        return resolve

    def _user_name(self, user_id: str) -> str | None:
        """A display name for ``<@U…>`` in questions (users.info, cached; None when unknown)."""
        if user_id in self._names:
            return self._names[user_id]
        name: str | None = None
        try:
            resp = self.client.users_info(user=user_id)
            u = resp.get("user") or {}
            profile = u.get("profile") or {}
            name = profile.get("display_name") or u.get("real_name") or u.get("name") or None
        except SlackClientError:
            name = None
        if len(self._names) > 5000:
            self._names.clear()
        self._names[user_id] = name
        return name

    # -- posting -----------------------------------------------------------------------
    def _react(self, channel: str, ts: str) -> bool:
        try:
            self.client.reactions_add(channel=channel, timestamp=ts, name=PROGRESS_REACTION)
            return True
        except SlackClientError as exc:
            log.debug("reactions.add failed: %s", slack_error(exc))
            return False

    def _unreact(self, channel: str, ts: str) -> None:
        try:
            self.client.reactions_remove(channel=channel, timestamp=ts, name=PROGRESS_REACTION)
        except SlackClientError as exc:
            log.debug("reactions.remove failed: %s", slack_error(exc))

    def _post(self, channel: str, thread: str | None, text: str, blocks: list[dict[str, Any]]) -> str | None:
        """chat.postMessage; returns None on success or the Slack error (logged once)."""
        return self._post_ts(channel, thread, text, blocks)[0]

    def _post_ts(self, channel: str, thread: str | None, text: str, blocks: list[dict[str, Any]], *,
                 job_id: str | None = None, metadata: dict[str, Any] | None = None) -> tuple[str | None, str | None]:
        """chat.postMessage; returns (error, ts): (None, ts) on success, (the Slack error, None) otherwise.

        With ``job_id`` the message carries it as metadata, so a worker that takes the job over after a
        crash can tell the reply already reached Slack.
        """
        kwargs: dict[str, Any] = {"channel": channel, "text": text, "unfurl_links": False, "unfurl_media": False}
        if thread:
            kwargs["thread_ts"] = thread
        if job_id:
            kwargs["metadata"] = {"event_type": ANSWER_EVENT_TYPE, "event_payload": {"job": job_id}}
        if metadata:
            kwargs["metadata"] = metadata
        try:
            resp = self.client.chat_postMessage(blocks=blocks, **kwargs)
            return None, reply_ts(resp)
        except SlackApiError as exc:
            error = slack_error(exc)
            if error in ("invalid_blocks", "invalid_blocks_format", "msg_too_long"):
                try:  # the text alone is always postable
                    resp = self.client.chat_postMessage(**{**kwargs, "text": text[:3000]})
                    return None, reply_ts(resp)
                except SlackClientError as exc2:
                    error = slack_error(exc2)
            log.warning("chat.postMessage failed: %s", error)
            return error, None
        except SlackClientError as exc:
            error = slack_error(exc)
            log.warning("chat.postMessage failed: %s", error)
            return error, None

    def _notice(self, event: dict[str, Any], text: str) -> None:
        self._post(str(event["channel"]), self._reply_thread(event), text, bk.notice_blocks(text))

    def _respond(self, response_url: str | None, payload: dict[str, Any]) -> bool:
        """Post to an interaction's response_url (ephemeral replies, deleting the original)."""
        if not response_url:
            return False
        return post_response(str(response_url), payload, api_url=self.settings.slack_api_url)

    # -- the assistant pane (Slack's AI app surface) ------------------------------------------------------
    def _on_thread_started(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        """A user opened a new assistant thread: a job greets them in their language and suggests questions."""
        t0 = time.perf_counter()
        thread = event.get("assistant_thread") or {}
        fields: dict[str, Any] = {"kind": "assistant_thread_started", "event_id": body.get("event_id")}
        if not thread.get("channel_id") or not thread.get("thread_ts"):
            self._log(t0, outcome="ignored", reason="incomplete", level=logging.DEBUG, **fields)
            return
        payload = {"channel": thread["channel_id"], "thread_ts": thread["thread_ts"], "user": thread.get("user_id"),
                   "context": thread.get("context") or {}, "fields": fields}
        event_id = body.get("event_id")
        if self.state.enqueue("greet", payload, claims=[f"event:{event_id}" if event_id else None,
                                                        f"greet:{thread['channel_id']}:{thread['thread_ts']}"],
                              claim_ttl_s=CLAIM_TTL_S) is None:
            self._log(t0, outcome="duplicate", **fields)
            return
        self.runner.wake()

    def _run_greet(self, job: Job) -> str | None:
        p = job.payload
        t0 = _since(job.created)
        channel, thread_ts = str(p["channel"]), str(p["thread_ts"])
        error = reply_ts = None
        if job.recovered:  # a worker died after greeting: do not greet twice
            try:
                greeted = self.contexts.first_reply(channel, thread_ts)
            except SlackClientError:
                greeted = None
            if greeted:
                return str(greeted.get("ts") or "") or None
        try:
            lang = self._user_language(p.get("user"))
            facts = self.knowledge.facts() if self.knowledge else None
            text = escape(facts.greeting(lang) if facts else prompts.pick(prompts.GREETING_EMPTY, lang))
            # The greeting carries the thread's context (the channel in view), for any replica to read later.
            error, reply_ts = self._post_ts(channel, thread_ts, text, bk.notice_blocks(text),
                                            metadata=context_metadata(p.get("context") or {}))
            starters = facts.starters(lang) if facts else []
            if starters:
                try:
                    self.client.assistant_threads_setSuggestedPrompts(
                        channel_id=channel, thread_ts=thread_ts, title=prompts.pick(prompts.PROMPTS_TITLE, lang),
                        prompts=[s.to_slack() for s in starters])
                except SlackClientError as exc:
                    error = error or f"setSuggestedPrompts:{slack_error(exc)}"
        except Exception as exc:
            log.error("assistant greeting failed: %s", type(exc).__name__, exc_info=self.settings.debug)
            error = type(exc).__name__
        self._log(t0, outcome="error" if error else "greeted", error=error, **(p.get("fields") or {}))
        return reply_ts

    def _on_context_changed(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        """The user looks at another channel with the pane open: remember it (used only when asked about)."""
        thread = event.get("assistant_thread") or {}
        if thread.get("channel_id") and thread.get("thread_ts"):
            self.state.enqueue("context", {"channel": thread["channel_id"], "thread_ts": thread["thread_ts"],
                                           "context": thread.get("context") or {}})
            self.runner.wake()

    def _run_context(self, job: Job) -> None:
        p = job.payload
        try:
            if not self.contexts.save(channel_id=str(p["channel"]), thread_ts=str(p["thread_ts"]),
                                      context=p.get("context") or {}, wait_s=CONTEXT_WAIT_S):
                log.info("thread context not saved: no greeting in the thread")
        except SlackClientError as exc:  # losing it only loses "this channel" questions
            log.warning("thread context not saved: %s", slack_error(exc))
        return None

    def _run_assistant(self, job: Job) -> str | None:
        event = job.payload["event"]
        fields = dict(job.payload.get("fields") or {})
        t0 = _since(job.created)
        if job.recovered:
            if posted := self._posted_before(job, event, fields, t0):
                return posted
            self._remove_drafts(event)
        return self.answer_assistant(event, t0=t0, fields=fields, job=job)

    def _remove_drafts(self, event: dict[str, Any]) -> None:
        """Delete a half-streamed reply a dead worker left under this question (no job metadata yet).

        Only the bot's untagged messages between this question and the next message of the user count,
        so a later question's answer or the greeting are never touched.
        """
        channel, thread, ts = str(event["channel"]), str(event["thread_ts"]), float(event["ts"])
        try:
            resp = self.client.conversations_replies(channel=channel, ts=thread, include_all_metadata=True, limit=200)
        except SlackClientError as exc:
            log.warning("looking for a draft reply failed: %s", slack_error(exc))
            return
        later = sorted((m for m in resp.get("messages") or [] if _float(m.get("ts")) > ts),
                       key=lambda m: _float(m.get("ts")))
        for m in later:
            if m.get("user") != self.bot_user_id:
                break  # the user spoke again: what follows belongs to another question
            if not m.get("metadata") and m.get("subtype") is None:
                try:
                    self.client.chat_delete(channel=channel, ts=str(m["ts"]))
                except SlackClientError as exc:
                    log.warning("removing a draft reply failed: %s", slack_error(exc))

    def _delete_quietly(self, channel: str, ts: str) -> None:
        try:
            self.client.chat_delete(channel=channel, ts=ts)
        except SlackClientError as exc:
            log.warning("removing a draft reply failed: %s", slack_error(exc))

    def _show_status(self, event: dict[str, Any], question: str) -> str:
        """"careerbot is reading the sources…" under the thread; a reaction where that is not possible."""
        try:
            self.client.assistant_threads_setStatus(
                channel_id=str(event["channel"]), thread_ts=str(event["thread_ts"]),
                status=prompts.pick(prompts.STATUS_READING, question_language(question)))
            return "status"
        except SlackClientError as exc:  # a plain DM thread (not the assistant pane), or no assistant:write
            log.debug("assistant.threads.setStatus failed: %s", slack_error(exc))
            return "reaction" if self._react(str(event["channel"]), str(event["ts"])) else "none"

    def answer_assistant(self, event: dict[str, Any], *, t0: float | None = None,
                         fields: dict[str, Any] | None = None, job: Job | None = None) -> str | None:
        """A question in an assistant (or DM) thread: status, title, history, the answer — streamed in LLM mode.

        Returns the ts of the reply (None when posting failed).
        """
        t0 = t0 if t0 is not None else time.perf_counter()
        fields = {**(fields or {}), "surface": "assistant"}
        channel, ts, thread = str(event["channel"]), str(event["ts"]), str(event["thread_ts"])
        user = event.get("user")
        job_id = job.id if job else None
        raw = cut_markup(event.get("text") or "", QUESTION_CHARS)
        names = self.mention_names()
        question = decode(raw, bot_user_id=self.bot_user_id, user_name=names)[:QUESTION_CHARS]
        progress = fields["progress"] = self._show_status(event, question)
        mode = refused = error = None
        reply_ts: str | None = None
        live: LiveReply | None = None
        try:
            if not question:
                error, reply_ts = self._post_ts(channel, thread, prompts.EMPTY_QUESTION_TEXT,
                                                bk.notice_blocks(prompts.EMPTY_QUESTION_TEXT), job_id=job_id)
                mode = "help"
                return reply_ts
            history = self._history(channel, event, names)
            if not history:  # the thread's first question names it
                self._set_title(channel, thread, question)
            history = self._channel_context(channel, thread, raw, names) + history
            if getattr(self.pipeline, "llm", None) is not None:
                live = LiveReply(self.client, channel, thread, user_id=user, team_id=event.get("team"))
            try:
                answer = self.pipeline.answer(question, history=history or None, user_id=user,
                                              on_delta=live.push if live else None)
            except Exception as exc:  # the asker must still hear back
                log.error("answer failed: %s", type(exc).__name__, exc_info=self.settings.debug)
                error = f"pipeline:{type(exc).__name__}"
                if live is not None:
                    live.finish(prompts.ERROR_TEXT, bk.notice_blocks(prompts.ERROR_TEXT),
                                metadata=self._job_meta(job_id))
                    return live.ts
                _, reply_ts = self._post_ts(channel, thread, prompts.ERROR_TEXT, bk.notice_blocks(prompts.ERROR_TEXT),
                                            job_id=job_id)
                return reply_ts
            if live is not None and live.shown and answer.note:  # the model's stream broke off midway
                answer.note = prompts.pick(prompts.STREAM_BROKE_NOTE, answer.language)
                fields["note"] = "stream_broke"
            elif answer.note:
                fields["note"] = "fallback"
            mode, refused = answer.mode, answer.refused
            feedback_id = self._record(answer, user=user, channel=channel, job_id=job_id,
                                       channel_type=fields.get("channel_type"))
            if job_id and not self.runner.mark_posting(job_id):
                error = "taken_over"  # another replica holds the job now and answers it
                if live is not None and live.ts:
                    self._delete_quietly(channel, live.ts)  # the draft shown so far is not the answer
                return None
            text, blocks = bk.answer_fallback(answer), bk.answer_blocks(answer, feedback_id)
            if live is not None:
                error = live.finish(text, blocks, metadata=self._job_meta(job_id))
                reply_ts, fields["stream"] = live.ts, live.mode
            else:
                error, reply_ts = self._post_ts(channel, thread, text, blocks, job_id=job_id)
            return reply_ts
        finally:
            if progress == "reaction":
                self._unreact(channel, ts)
            self._log(t0, outcome="error" if error else "answered", mode=mode, refused=refused, error=error, **fields)

    @staticmethod
    def _job_meta(job_id: str | None) -> dict[str, Any] | None:
        return {"event_type": ANSWER_EVENT_TYPE, "event_payload": {"job": job_id}} if job_id else None

    def _record(self, answer: Any, *, user: str | None, channel: str, job_id: str | None,
                channel_type: str | None) -> str | None:
        """Store the answer for its 👍/👎 buttons; None (no buttons) when the store fails."""
        try:
            return self.state.record_answer(
                user=user, channel=channel, channel_type=channel_type, question=answer.question, answer=answer.text,
                mode=answer.mode, refused=answer.refused, job_id=job_id,
                sources=[{"n": c.n, "source": c.source, "title": c.title, "url": c.url}
                         for c in getattr(answer, "citations", None) or []])
        except Exception as exc:
            log.warning("feedback store failed: %s", type(exc).__name__)
            return None

    def _set_title(self, channel: str, thread_ts: str, question: str) -> None:
        try:
            self.client.assistant_threads_setTitle(channel_id=channel, thread_ts=thread_ts, title=title_for(question))
        except SlackClientError as exc:
            log.debug("assistant.threads.setTitle failed: %s", slack_error(exc))

    def _channel_context(self, channel: str, thread_ts: str, raw_question: str,
                         names: Callable[[str], str | None]) -> list[str]:
        """Recent messages of the channel the user is looking at — only when the question refers to it."""
        if not may_ask_about_channel(raw_question):
            return []
        try:
            context = self.contexts.find(channel_id=channel, thread_ts=thread_ts)
        except SlackClientError as exc:
            log.debug("thread context unavailable: %s", slack_error(exc))
            return []
        looked_at = context.get("channel_id") if context is not None else None
        if not looked_at or not asks_about_channel(raw_question, str(looked_at)):
            return []
        try:
            resp = self.client.conversations_history(channel=str(looked_at), limit=CHANNEL_CONTEXT_MESSAGES)
        except SlackClientError as exc:  # not a member there, or no history scope
            log.debug("conversations.history failed: %s", slack_error(exc))
            return []
        out = []
        for m in reversed(resp.get("messages") or []):  # Slack gives newest first
            if m.get("bot_id") or m.get("subtype"):
                continue
            text = decode(cut_markup(str(m.get("text") or ""), HISTORY_CHARS), bot_user_id=self.bot_user_id,
                          user_name=names)
            if text:
                out.append(text[:HISTORY_CHARS])
        return out[-CHANNEL_CONTEXT_MESSAGES:]

    def _user_language(self, user_id: str | None) -> str:
        """The user's Slack locale as an answer language (users.info, cached); English when unknown."""
        if not user_id:
            return "en"
        if user_id not in self._locales:
            locale: str | None = None
            try:
                resp = self.client.users_info(user=user_id, include_locale=True)
                locale = (resp.get("user") or {}).get("locale")
            except SlackClientError as exc:
                log.debug("users.info failed: %s", slack_error(exc))
            if len(self._locales) > 5000:
                self._locales.clear()
            self._locales[user_id] = locale
        return locale_language(self._locales[user_id])

    # -- the Home tab -----------------------------------------------------------------------------------------
    def _on_home_opened(self, ack: Callable[..., Any], body: dict[str, Any], event: dict[str, Any]) -> None:
        if event.get("tab") not in (None, "home") or not event.get("user"):
            ack()
            return
        event_id = body.get("event_id")
        self.state.enqueue("home", {"user": str(event["user"]),
                                    "fields": {"kind": "app_home_opened", "event_id": event_id}},
                           claims=[f"event:{event_id}" if event_id else None], claim_ttl_s=CLAIM_TTL_S)
        ack()
        self.runner.wake()

    def _run_home(self, job: Job) -> None:
        self.publish_home(str(job.payload["user"]), t0=_since(job.created), fields=job.payload.get("fields"))
        return None

    def publish_home(self, user: str, *, t0: float | None = None, fields: dict[str, Any] | None = None) -> None:
        """views.publish the Home tab for ``user`` (the feedback part only for CAREERBOT_ADMINS)."""
        t0 = t0 if t0 is not None else time.perf_counter()
        error = None
        admin = user in self.settings.admins
        try:
            facts = self.knowledge.facts() if self.knowledge else KnowledgeFacts("empty")
            digest: FeedbackDigest | None = None
            if admin:
                try:
                    digest = self.feedback_summary(time.time() - FEEDBACK_WINDOW_S)
                except Exception as exc:
                    log.warning("feedback summary failed: %s", type(exc).__name__)
            view = home_view(facts, bot_user_id=self.bot_user_id, digest=digest, is_admin=admin,
                             lang=self._user_language(user))
            self.client.views_publish(user_id=user, view=view)
        except SlackClientError as exc:
            error = slack_error(exc)
            log.warning("views.publish failed: %s", error)
        except Exception as exc:
            error = type(exc).__name__
            log.error("home tab failed: %s", error, exc_info=self.settings.debug)
        self._log(t0, outcome="error" if error else "published", admin=admin, error=error, **(fields or {}))

    # -- slash commands and role cards ---------------------------------------------------------
    def roles_service(self) -> RoleService | None:
        """bot.role_service.RoleService, built once; None while the roles feature is not installed."""
        with self._roles_lock:
            if self._roles is None:
                try:
                    from .role_service import RoleService
                except ImportError:
                    return None
                self._roles = RoleService(self.pipeline.kb, self.settings, self.pipeline)
            return self._roles

    def role_reply(self, command: str, query: str) -> tuple[list[dict[str, Any]], str, bool]:
        """The one call slash commands make: (blocks, text, shareable) for /career-role and /career-roles."""
        try:
            roles = self.roles_service()
        except Exception as exc:
            log.error("role service failed to start: %s", type(exc).__name__)
            return bk.notice_blocks(prompts.ERROR_TEXT), prompts.ERROR_TEXT, False
        if roles is None:
            return bk.notice_blocks(prompts.ROLES_UNAVAILABLE_TEXT), prompts.ROLES_UNAVAILABLE_TEXT, False
        if command == "/career-roles" or not query.strip():
            # `/career-role` with no name shows the catalog too, topped with how to ask for one card.
            usage = [bk.notice_blocks(prompts.ROLE_USAGE_TEXT)[0]] if command != "/career-roles" else []
            blocks = [*usage, *roles.catalog_blocks()][: bk.MAX_BLOCKS]
            return blocks, str(roles.catalog_text()), False
        result = roles.card(query)
        card = list(result.to_blocks())[: bk.MAX_BLOCKS - 2]
        return [bk.question_echo(query), *card], str(result.to_text()), bool(result.matched)

    def _on_command(self, ack: Callable[..., Any], command: dict[str, Any]) -> None:
        t0 = time.perf_counter()
        name = str(command.get("command", ""))
        fields: dict[str, Any] = {"kind": "command", "command": name}
        payload = {"command": name, "text": str(command.get("text") or ""),
                   "response_url": command.get("response_url"), "fields": fields}
        # replayed commands are refused at the front door; here: the rate limit and the job, one transaction
        admitted = self.state.admit("command", payload, user=command.get("user_id"), notice_kind="command_notice",
                                    limit=self.settings.rate_limit_per_minute, surface="command")
        ack()
        if admitted.job_id:
            self.runner.wake()
        if admitted.verdict is not Verdict.ALLOW:
            self._log(t0, outcome="rate_limited", notice=admitted.verdict is Verdict.NOTIFY, **fields)

    def _run_command_notice(self, job: Job) -> None:
        text = prompts.RATE_LIMITED_TEXT.format(n=self.settings.rate_limit_per_minute)
        self._respond(job.payload.get("response_url"), {"response_type": "ephemeral", "text": text})

    def _run_command(self, job: Job) -> None:
        p = job.payload
        t0 = _since(job.created)
        name = str(p.get("command") or "")
        query = decode(str(p.get("text") or ""))[:300]
        error = None
        try:
            blocks, text, shareable = self.role_reply(name, query)
            if shareable:
                blocks = [*blocks, bk.share_button(query)]
        except Exception as exc:
            log.error("%s failed: %s", name, type(exc).__name__, exc_info=self.settings.debug)
            error = type(exc).__name__
            blocks, text = bk.notice_blocks(prompts.ERROR_TEXT), prompts.ERROR_TEXT
        payload = {"response_type": "ephemeral", "text": escape(text)[:3000], "blocks": blocks}
        if not self._respond(p.get("response_url"), payload):
            error = error or "response_url"
        self._log(t0, outcome="error" if error else "answered", error=error, **(p.get("fields") or {}))
        return None

    def _on_share(self, ack: Callable[..., Any], body: dict[str, Any], action: dict[str, Any]) -> None:
        channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
        payload = {"channel": channel, "user": (body.get("user") or {}).get("id"),
                   "query": str(action.get("value") or ""), "response_url": body.get("response_url")}
        self.state.enqueue("share", payload)
        ack()
        self.runner.wake()

    def _run_share(self, job: Job) -> str | None:
        p = job.payload
        t0 = _since(job.created)
        channel, user, query, response_url = p.get("channel"), p.get("user"), str(p.get("query") or ""), \
            p.get("response_url")
        error = None
        reply_ts = None
        try:
            roles = self.roles_service()
            if roles is None or not channel:
                self._respond(response_url, {"response_type": "ephemeral", "replace_original": False,
                                             "text": prompts.ROLES_UNAVAILABLE_TEXT})
                return None
            result = roles.card(query)
            shared_by = bk.context(f"Shared by <@{user}> · `/career-role {escape(query)}`") if user else None
            card = list(result.to_blocks())[: bk.MAX_BLOCKS - 1]
            error, reply_ts = self._post_ts(str(channel), None, escape(str(result.to_text()))[:3000],
                                            [*([shared_by] if shared_by else []), *card], job_id=job.id)
            if error:
                self._respond(response_url, {"response_type": "ephemeral", "replace_original": False,
                                             "text": prompts.SHARE_FAILED_TEXT})
            else:
                self._respond(response_url, {"delete_original": True})
        except Exception as exc:
            log.error("share failed: %s", type(exc).__name__, exc_info=self.settings.debug)
            error = type(exc).__name__
            self._respond(response_url, {"response_type": "ephemeral", "replace_original": False,
                                         "text": prompts.ERROR_TEXT})
        finally:
            self._log(t0, kind="action", action=bk.SHARE_ROLE, outcome="error" if error else "shared", error=error)
        return reply_ts

    def _on_feedback(self, ack: Callable[..., Any], body: dict[str, Any], action: dict[str, Any]) -> None:
        t0 = time.perf_counter()
        vote = "up" if action.get("action_id") == bk.FEEDBACK_UP else "down"
        user = str((body.get("user") or {}).get("id") or "")
        answer_id = str(action.get("value") or "")[:64]
        channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
        message = body.get("message") or {}
        known = self.state.record_vote(answer_id, user, vote) if user else False  # stored before the ack
        if channel and user:
            self.state.enqueue("thanks", {"channel": channel, "user": user, "thread": message.get("thread_ts"),
                                          "response_url": body.get("response_url")})
        ack()
        self.runner.wake()
        self._log(t0, kind="action", action=action.get("action_id"), outcome="voted", vote=vote, known=known)

    def _run_thanks(self, job: Job) -> None:
        p = job.payload
        try:
            kwargs: dict[str, Any] = {"channel": p["channel"], "user": p["user"], "text": prompts.THANKS_TEXT}
            if p.get("thread"):
                kwargs["thread_ts"] = p["thread"]
            self.client.chat_postEphemeral(**kwargs)
        except SlackClientError as exc:
            error = slack_error(exc)
            if not self._respond(p.get("response_url"), {"response_type": "ephemeral", "replace_original": False,
                                                         "text": prompts.THANKS_TEXT}):
                log.warning("feedback acknowledgement failed: %s", error)
        return None

    # -- logging and lifecycle ---------------------------------------------------------------
    def _log(self, t0: float, *, level: int = logging.INFO, **fields: Any) -> None:
        """One JSON line per request: ids, channel type, latency, outcome — never message text or secrets."""
        if not request_log.isEnabledFor(level):
            return
        record = {"latency_ms": round((time.perf_counter() - t0) * 1000, 1)}
        record.update({k: v for k, v in fields.items() if v is not None})
        request_log.log(level, json.dumps(record, ensure_ascii=False, default=str))

    def warm(self) -> None:
        """Load the model, open the store and build BM25 before the first request."""
        kb = getattr(self.pipeline, "kb", None)
        warm = getattr(self.pipeline, "warm", None)
        if callable(warm):
            warm()
        elif kb is not None:
            kb.search("warm up", k=1)
        if self.knowledge is not None:  # the role catalog behind greetings and the Home tab
            try:
                self.knowledge.facts()
            except Exception as exc:  # built on the first greeting instead
                log.warning("knowledge summary not ready: %s", type(exc).__name__)

    def shutdown(self, timeout_s: float = 20.0) -> bool:
        """Stop leasing jobs, finish the ones running (bounded), hand the rest back to the shared queue."""
        done = self.runner.drain(timeout_s)
        if not done:
            log.warning("shutdown: answers still running after %.0f s were handed back to the queue", timeout_s)
        return done


class _BoltNoise(logging.Filter):
    """Drops bolt lines that would echo request bodies (message text) or state the obvious."""

    DROP = ("As you gave `client`", "Unhandled request", "Invalid request signature")

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(self.DROP)


def _bolt_logger() -> logging.Logger:
    """The base logger bolt copies level and filters from: warnings only, without request bodies."""
    logger = logging.getLogger("careerbot.bolt")
    if not any(isinstance(f, _BoltNoise) for f in logger.filters):
        logger.addFilter(_BoltNoise())
    if logger.level == logging.NOTSET or logger.level < logging.WARNING:
        logger.setLevel(logging.WARNING)
    return logger


def _in_dm_thread(event: dict[str, Any]) -> bool:
    """A message typed in a DM thread: the assistant pane's threads are these (bolt's own test, less the bots)."""
    return event.get("type") == "message" and event.get("channel_type") == "im" and bool(event.get("thread_ts"))


def cut_markup(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, never in the middle of a ``<…>`` markup token."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    if cut.rfind("<") > cut.rfind(">"):
        cut = cut[: cut.rfind("<")]
    return cut


def _float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def _since(created: float) -> float:
    """A perf_counter origin ``created`` (wall clock, when the job was recorded) seconds ago, for latency logs."""
    return time.perf_counter() - max(0.0, time.time() - created)


