"""The Notifier port for Slack: DMs, channel posts and in-place updates, retried on 429 / 5xx with back-off.

Every Web API client ownerbot builds (bolt's, the notifier's, response_url posts) carries the same retry
handlers, so a rate limit or a Slack hiccup delays a message instead of losing it. The state change behind
a message is always committed before anything is sent.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import ClientOSError, ClientSession, ServerConnectionError, ServerDisconnectedError
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.settings import SlackSettings
from db.models import Platform
from handlers import Reply
from handlers.ports import DeliveryFailed, MessageRef

from . import grid, render

log = logging.getLogger(__name__)

# Errors that no retry will fix: the person or channel is gone, or the bot may not post there.
PERMANENT_ERRORS = frozenset(
    {
        "user_not_found",
        "users_not_found",
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "account_inactive",
        "user_disabled",
        "cannot_dm_bot",
        "invalid_auth",
        "not_authed",
        "token_revoked",
        "message_not_found",
        "cant_update_message",
        "restricted_action",
        "missing_scope",
    }
)


@dataclass(frozen=True)
class RetryTiming:
    """How long the Slack clients wait before a retry. The defaults are production's (and slack_sdk's own):
    5xx answers and connection errors wait `base_seconds` doubling each time (0.5, 1, 2 s), a 429 waits its
    Retry-After, each plus up to `jitter_seconds` of random jitter; a response_url 5xx waits half the base,
    doubling. Set with SLACK_RETRY_BASE_SECONDS and SLACK_RETRY_JITTER_SECONDS; tests pass zeros, or a `sleep`
    that records the waits."""

    base_seconds: float = 0.5
    jitter_seconds: float = 1.0
    sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep, compare=False)

    @classmethod
    def of(cls, settings: SlackSettings) -> RetryTiming:
        return cls(settings.slack_retry_base_seconds, settings.slack_retry_jitter_seconds)

    def backoff(self, retry: int) -> float:
        """The wait before retry number `retry` + 1 (0-based) after a 5xx or a connection error."""
        return self.base_seconds * 2.0**retry + self.jitter()

    def jitter(self) -> float:
        return random.random() * self.jitter_seconds


class TimedRetries(AsyncRetryHandler):
    """A retry handler that waits through `RetryTiming` (slack_sdk's own handlers call asyncio.sleep)."""

    def __init__(self, *, max_retry_count: int, timing: RetryTiming) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.timing = timing

    def wait_seconds(self, state: RetryState, response: HttpResponse | None) -> float:
        return self.timing.backoff(state.current_attempt)

    async def prepare_for_next_attempt_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        state.next_attempt_requested = True
        await self.timing.sleep(self.wait_seconds(state, response))
        state.increment_current_attempt()


# The connection errors slack_sdk's own connection handler retries (ClientOSError: connection reset by peer).
CONNECTION_ERRORS = (ServerConnectionError, ServerDisconnectedError, ClientOSError)


class ConnectionErrorRetries(TimedRetries):
    """Retries a dropped or refused connection (the errors slack_sdk's connection handler retries)."""

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return isinstance(error, CONNECTION_ERRORS)


# A 429 asking for a longer wait is not waited out inside the call: the call fails with the Retry-After, and the
# outbox sends the message again when it is due (`db.outbox.backoff`), holding nothing meanwhile.
MAX_INLINE_RETRY_AFTER = 5


class RateLimitRetries(TimedRetries):
    """Retries a 429 after its Retry-After (1 s when Slack sends none), plus jitter, when that is short."""

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return (
            response is not None
            and response.status_code == 429
            and self.retry_after(response) <= MAX_INLINE_RETRY_AFTER
        )

    @staticmethod
    def retry_after(response: HttpResponse | None) -> int:
        headers = response.headers if response is not None else {}
        values = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
        try:
            return int(values[0]) if values else 1
        except ValueError:
            return 1

    def wait_seconds(self, state: RetryState, response: HttpResponse | None) -> float:
        return self.retry_after(response) + self.timing.jitter()


class ServerErrorRetries(TimedRetries):
    """Retries any 5xx answer (slack_sdk's built-in one only retries 500 and 503), with back-off."""

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return response is not None and 500 <= response.status_code < 600


def retry_handlers(timing: RetryTiming) -> list[AsyncRetryHandler]:
    return [
        ConnectionErrorRetries(max_retry_count=2, timing=timing),
        RateLimitRetries(max_retry_count=4, timing=timing),  # waits Retry-After (+ jitter) each time
        ServerErrorRetries(max_retry_count=3, timing=timing),
    ]


def web_client(api_url: str, token: str | None = None, *, timing: RetryTiming | None = None) -> AsyncWebClient:
    return AsyncWebClient(token=token, base_url=api_url, retry_handlers=retry_handlers(timing or RetryTiming()))


def webhook_client(
    url: str, *, timing: RetryTiming | None = None, session: ClientSession | None = None
) -> AsyncWebhookClient:
    return AsyncWebhookClient(url, session=session, retry_handlers=retry_handlers(timing or RetryTiming()))


async def post_to_response_url(
    url: str,
    payload: dict[str, Any],
    *,
    attempts: int = 4,
    timing: RetryTiming | None = None,
    session: ClientSession | None = None,
) -> None:
    """POST to a response_url. slack_sdk's webhook client retries 429s and connection errors; 5xx answers are
    retried here, with back-off (0.25, 0.5, 1 s in production). `session`: a shared HTTP client (its connections
    are kept alive between replies); without one, each post opens its own."""
    timing = timing or RetryTiming()
    client = webhook_client(url, timing=timing, session=session)
    for attempt in range(attempts):
        response = await client.send_dict(payload)
        if response.status_code < 500:
            if response.status_code != 200:
                raise DeliveryFailed(f"response_url said {response.status_code} {response.body[:60]}", permanent=True)
            return
        if attempt + 1 < attempts:
            await timing.sleep(timing.base_seconds / 2 * 2.0**attempt)
    raise DeliveryFailed(f"response_url kept failing ({response.status_code})", retry_after=30.0)


def delivery_failed(error: Exception) -> DeliveryFailed:
    if isinstance(error, SlackApiError):
        code = str(error.response.get("error", "")) if error.response is not None else ""
        status = error.response.status_code if error.response is not None else 0
        retry_after = None
        if status == 429:
            raw = (error.response.headers or {}).get("Retry-After") or (error.response.headers or {}).get("retry-after")
            raw = raw[0] if isinstance(raw, list) else raw
            retry_after = float(raw) if raw else 1.0
        elif status >= 500 or not code:
            retry_after = 30.0
        return DeliveryFailed(
            f"Slack said {code or status}", retry_after=retry_after, permanent=code in PERMANENT_ERRORS
        )
    return DeliveryFailed(f"Slack unreachable: {type(error).__name__}", retry_after=30.0)


class SlackNotifier:
    """`Notifier` for Slack. One workspace (a bot token) or many (tokens from the installation store)."""

    platform = Platform.SLACK

    def __init__(
        self,
        *,
        api_url: str,
        bot_token: str | None = None,
        installation_store: AsyncInstallationStore | None = None,
        timing: RetryTiming | None = None,
        sessions: async_sessionmaker[AsyncSession] | None = None,
    ) -> None:
        self.sessions = sessions  # where a Grid workspace's organization is kept (bot.slack.grid)
        self.api_url = api_url
        self.bot_token = bot_token
        self.installation_store = installation_store
        self.timing = timing or RetryTiming()
        self._single = web_client(api_url, bot_token, timing=self.timing) if bot_token else None
        self._http: ClientSession | None = None

    def http(self) -> ClientSession:
        """The one HTTP client for response_url replies, opened on first use (inside the running loop)."""
        if self._http is None or self._http.closed:
            self._http = ClientSession()
        return self._http

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()

    async def client_for(self, workspace: str) -> AsyncWebClient:
        if self._single is not None:
            return self._single
        if self.installation_store is not None:
            bot = await grid.find_bot(self.installation_store, self.sessions, workspace)
            if bot is not None and bot.bot_token:
                return web_client(self.api_url, bot.bot_token, timing=self.timing)
        raise DeliveryFailed(f"ownerbot is not installed in Slack workspace {workspace}", permanent=True)

    async def send_direct(
        self, *, workspace: str, user_id: str, reply: Reply, client: AsyncWebClient | None = None
    ) -> MessageRef:
        client = client or await self.client_for(workspace)
        try:
            opened = await client.conversations_open(users=user_id)
            channel = opened["channel"]["id"]
            sent = await client.chat_postMessage(channel=channel, **render.message(reply))
        except Exception as error:  # SlackApiError after the retries, or the network
            raise delivery_failed(error) from error
        return MessageRef(Platform.SLACK, workspace, sent["channel"], sent["ts"])

    async def post_channel(
        self,
        *,
        workspace: str,
        channel_id: str,
        reply: Reply,
        client: AsyncWebClient | None = None,
        thread_ts: str | None = None,
    ) -> MessageRef:
        client = client or await self.client_for(workspace)
        thread_ts = thread_ts or reply.thread
        extra: dict[str, Any] = {"thread_ts": thread_ts} if thread_ts else {}
        try:
            sent = await client.chat_postMessage(channel=channel_id, **render.message(reply), **extra)
        except Exception as error:
            raise delivery_failed(error) from error
        return MessageRef(Platform.SLACK, workspace, sent["channel"], sent["ts"])

    async def update(self, *, ref: MessageRef, reply: Reply, client: AsyncWebClient | None = None) -> None:
        client = client or await self.client_for(ref.workspace)
        try:
            await client.chat_update(channel=ref.channel_id, ts=ref.message_id, **render.message(reply))
        except Exception as error:
            raise delivery_failed(error) from error
