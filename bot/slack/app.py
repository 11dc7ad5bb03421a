"""The Slack face: a slack-bolt AsyncApp mounted on ownerbot's aiohttp server (and Socket Mode when asked).

Every listener is thin: verify (bolt, signature and timestamp always on), ack, translate the payload into an
`Invocation` / `ActionInvocation`, make one call into `Handlers`, render the `Reply` as Block Kit and send it.
Slow work happens after the ack. Routes:

    POST /slack/events          slash commands, interactivity (buttons, modals) and the Events API
    GET  /slack/install         OAuth install (multi-workspace mode)
    GET  /slack/oauth_redirect  OAuth redirect (multi-workspace mode)
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.errors import SlackApiError
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.platforms import PlatformStatus
from db.models import Platform
from handlers import ActionInvocation, Handlers, Invocation, Reply
from handlers.ports import DeliveryFailed

from . import dedupe, members, render
from .notifier import SlackNotifier, post_to_response_url, web_client
from .settings import SlackSettings

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
SLASH_COMMANDS = ("claim", "handoff", "release", "whoowns", "mine", "ownerbot")
BOT_SCOPES = ["commands", "chat:write", "im:write", "im:history", "app_mentions:read", "users:read"]
SUBMIT_BUDGET = 2.0  # seconds a modal submit may take before we ack and answer afterwards
COMMAND_RE = re.compile(r"^/(" + "|".join(SLASH_COMMANDS) + r")$")
ACTION_RE = re.compile(r"^ownerbot\.")


class BackgroundWork:
    """Counts listeners still working after their ack, so shutdown (and tests) can wait for them."""

    def __init__(self) -> None:
        self._running = 0
        self._idle = asyncio.Event()
        self._idle.set()

    async def __aenter__(self) -> BackgroundWork:
        self._running += 1
        self._idle.clear()
        return self

    async def __aexit__(self, kind: object, error: BaseException | None, trace: object) -> bool:
        self._running -= 1
        if self._running == 0:
            self._idle.set()
        if error is not None and not isinstance(error, asyncio.CancelledError):
            log.error("Slack work failed after the ack", exc_info=error)
            return True
        return False

    async def drain(self, seconds: float = 30) -> None:
        await asyncio.sleep(0)  # let listeners scheduled by the last request start
        async with asyncio.timeout(seconds):
            await self._idle.wait()


@dataclass(frozen=True)
class Where:
    """Where a reply goes: the invoker, and the surface they used."""

    team_id: str
    user_id: str
    channel_id: str | None = None
    response_url: str | None = None
    trigger_id: str | None = None
    message_ts: str | None = None  # the message a button was on
    thread_ts: str | None = None
    direct: bool = False  # a DM with the bot: reply in the conversation, not ephemerally
    home: bool = False  # the App Home tab: refresh it after the action


class SlackFace:
    def __init__(
        self,
        *,
        handlers: Handlers,
        sessions: async_sessionmaker[AsyncSession],
        settings: SlackSettings,
        notifier: SlackNotifier,
    ) -> None:
        self.handlers = handlers
        self.sessions = sessions
        self.settings = settings
        self.notifier = notifier
        self.work = BackgroundWork()

    def now(self) -> datetime:
        return self.handlers.clock()

    # -- translate --------------------------------------------------------------------------------------

    async def _invoker(self, client: AsyncWebClient, team_id: str, user_id: str, fallback: str) -> members.Profile:
        return await members.invoker_profile(
            self.sessions, client, team_id=team_id, user_id=user_id, fallback_name=fallback
        )

    async def run_command(
        self, client: AsyncWebClient, text: str, where: Where, fallback_name: str = "", workspace_name: str = ""
    ) -> Reply:
        profile = await self._invoker(client, where.team_id, where.user_id, fallback_name)
        await members.introduce_mentioned(
            self.sessions, client, team_id=where.team_id, text=text, now=self.now(), admins=self.handlers.admins
        )
        return await self.handlers.command(
            Invocation(
                platform=Platform.SLACK,
                workspace=where.team_id,
                user_id=where.user_id,
                text=text,
                user_name=profile.name,
                channel_id=where.channel_id,
                time_zone=profile.time_zone,
                workspace_name=workspace_name,
            )
        )

    async def run_action(
        self,
        client: AsyncWebClient,
        where: Where,
        action_id: str,
        value: str,
        typed: str | None = None,
        fallback_name: str = "",
    ) -> Reply:
        profile = await self._invoker(client, where.team_id, where.user_id, fallback_name)
        return await self.handlers.action(
            ActionInvocation(
                platform=Platform.SLACK,
                workspace=where.team_id,
                user_id=where.user_id,
                action_id=render.action_id_of(action_id),
                value=value,
                input=typed,
                user_name=profile.name,
                channel_id=where.channel_id,
                time_zone=profile.time_zone,
            )
        )

    # -- listeners ----------------------------------------------------------------------------------------

    async def on_command(self, ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        async with self.work:
            await ack()
            name = str(body.get("command", "")).lstrip("/")
            args = str(body.get("text", "")).strip()
            text = args if name == "ownerbot" else f"{name} {args}".strip()
            where = Where(
                team_id=body["team_id"],
                user_id=body["user_id"],
                channel_id=body.get("channel_id"),
                response_url=body.get("response_url"),
                trigger_id=body.get("trigger_id"),
                direct=str(body.get("channel_name", "")) == "directmessage",
            )
            reply = await self.run_command(
                client, text, where, body.get("user_name", ""), workspace_name=str(body.get("team_domain", ""))
            )
            await self.deliver(client, reply, where)

    async def on_action(self, ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        async with self.work:
            await ack()
            clicked = body["actions"][0]
            container = body.get("container") or {}
            where = Where(
                team_id=_team(body),
                user_id=body["user"]["id"],
                channel_id=(body.get("channel") or {}).get("id") or container.get("channel_id"),
                response_url=body.get("response_url"),
                trigger_id=body.get("trigger_id"),
                message_ts=container.get("message_ts"),
                home=container.get("type") == "view",
            )
            reply = await self.run_action(
                client,
                where,
                clicked["action_id"],
                clicked.get("value", ""),
                fallback_name=body["user"].get("name", ""),
            )
            await self.deliver(client, reply, where)
            if where.home:
                await self.publish_home(client, where.team_id, where.user_id)

    async def on_submit(self, ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        async with self.work:
            view = body["view"]
            context = render.PromptContext.load(view.get("private_metadata", ""))
            where = Where(
                team_id=_team(body),
                user_id=body["user"]["id"],
                channel_id=context.channel_id,
                response_url=context.response_url,
                message_ts=context.message_ts,
                home=not context.channel_id and not context.response_url,
            )
            typed = render.prompt_answer(view)
            task = asyncio.ensure_future(
                self.run_action(
                    client, where, context.action_id, context.value, typed, fallback_name=body["user"].get("name", "")
                )
            )
            done, _ = await asyncio.wait({task}, timeout=SUBMIT_BUDGET)
            if task in done:
                reply = task.result()
                if reply.error:  # nothing changed: keep the modal open and say why, on the field
                    await ack(response_action="errors", errors={render.PROMPT_BLOCK: render.clip(reply.text, 300)})
                    return
                await ack()
            else:  # slow database: close the modal now, answer when done
                await ack()
                reply = await task
            await self.deliver(client, reply, where)
            if where.home:
                await self.publish_home(client, where.team_id, where.user_id)

    async def on_message_event(
        self, body: dict[str, Any], event: dict[str, Any], client: AsyncWebClient, context: Any
    ) -> None:
        async with self.work:
            if event.get("bot_id") or event.get("subtype"):
                return
            if event.get("type") == "message" and event.get("channel_type") != "im":
                return
            if not await self._first_delivery(body):
                return
            text = str(event.get("text", ""))
            bot_user = getattr(context, "bot_user_id", None) or (context or {}).get("bot_user_id")
            if bot_user:
                text = re.sub(rf"<@{re.escape(bot_user)}(\|[^>]*)?>", " ", text, count=1)
            direct = event.get("channel_type") == "im"
            where = Where(
                team_id=_team(body),
                user_id=event["user"],
                channel_id=event.get("channel"),
                thread_ts=None if direct else (event.get("thread_ts") or event.get("ts")),
                direct=direct,
            )
            reply = await self.run_command(client, text.strip(), where)
            await self.deliver(client, reply, where)

    async def on_home_opened(self, body: dict[str, Any], event: dict[str, Any], client: AsyncWebClient) -> None:
        async with self.work:
            if event.get("tab", "home") != "home" or not await self._first_delivery(body):
                return
            await self.publish_home(client, _team(body), event["user"])

    async def on_user_change(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        async with self.work:
            if await self._first_delivery(body):
                await members.refresh_known(
                    self.sessions, team_id=_team(body), user=event.get("user") or {}, now=self.now()
                )

    async def _first_delivery(self, body: dict[str, Any]) -> bool:
        event_id = body.get("event_id")
        if not event_id:
            return True
        first = await dedupe.first_delivery(
            self.sessions,
            event_id=str(event_id),
            team_id=_team(body),
            event_type=str((body.get("event") or {}).get("type", "")),
            now=self.now(),
        )
        if not first:
            log.info("Slack event %s already handled; ignoring the repeat", event_id)
        return first

    # -- render and send ---------------------------------------------------------------------------------

    async def publish_home(self, client: AsyncWebClient, team_id: str, user_id: str) -> None:
        reply = await self.run_command(client, "mine", Where(team_id=team_id, user_id=user_id))
        view = render.home_view(reply, updated=self.now().strftime("%Y-%m-%d %H:%M UTC"))
        await client.views_publish(user_id=user_id, view=view)

    async def deliver(self, client: AsyncWebClient, reply: Reply, where: Where) -> None:
        if reply.prompt is not None and where.trigger_id:
            context = render.PromptContext(
                reply.prompt.submit_action_id,
                reply.prompt.value,
                where.channel_id,
                where.response_url,
                where.message_ts,
            )
            try:
                await client.views_open(trigger_id=where.trigger_id, view=render.prompt_modal(reply.prompt, context))
                reply = replace(reply, text="", prompt=None)
            except SlackApiError as error:  # trigger expired (3 s): the reply text says how to type it instead
                log.warning("views.open failed: %s", error.response.get("error"))
        if reply.text:
            await self._answer(client, reply, where)
        for notice in reply.notices:
            try:
                await self.notifier.send_direct(
                    workspace=where.team_id, user_id=notice.to_user_id, reply=notice.reply, client=client
                )
            except DeliveryFailed as error:
                log.warning("could not DM %s: %s", notice.to_user_id, error)
                await self._answer(
                    client,
                    Reply(
                        f"I could not message <@{notice.to_user_id}> ({error}); please tell them yourself.", error=True
                    ),
                    where,
                )

    async def _answer(self, client: AsyncWebClient, reply: Reply, where: Where) -> None:
        """The reply to the invoker, on the surface they used."""
        body = render.message(reply)
        try:
            if where.response_url:
                payload = {**body, "response_type": "ephemeral" if reply.ephemeral else "in_channel"}
                if where.message_ts is not None:  # a button on a message: replace it, or answer beside it
                    payload["replace_original"] = reply.replace_original and not reply.error
                await post_to_response_url(where.response_url, payload)
            elif reply.replace_original and where.channel_id and where.message_ts and not reply.error:
                await client.chat_update(channel=where.channel_id, ts=where.message_ts, **body)
            elif where.channel_id and not where.home and (where.direct or not reply.ephemeral):
                thread_ts = where.thread_ts if where.thread_ts and not reply.ephemeral else None
                await client.chat_postMessage(channel=where.channel_id, thread_ts=thread_ts, **body)
            elif where.channel_id and not where.home:
                await client.chat_postEphemeral(channel=where.channel_id, user=where.user_id, **body)
            elif not where.home or reply.error:
                await self.notifier.send_direct(
                    workspace=where.team_id, user_id=where.user_id, reply=reply, client=client
                )
        except (TimeoutError, SlackApiError, DeliveryFailed, OSError) as error:
            log.warning("could not answer %s in Slack: %s", where.user_id, error)


def _team(body: dict[str, Any]) -> str:
    team = body.get("team_id") or (body.get("team") or {}).get("id") or (body.get("user") or {}).get("team_id")
    if not team:
        authorizations = body.get("authorizations") or [{}]
        team = authorizations[0].get("team_id") or ""
    return str(team)


# -- assembly -------------------------------------------------------------------------------------------


def build_bolt_app(face: SlackFace, settings: SlackSettings, engine: AsyncEngine | None) -> AsyncApp:
    client = web_client(settings.slack_api_url, None if settings.oauth else settings.bot_token)
    options: dict[str, Any] = {}
    if settings.oauth:
        if engine is None:
            raise ValueError("OAuth installs need the database engine")
        installation_store = AsyncSQLAlchemyInstallationStore(client_id=settings.slack_client_id or "", engine=engine)
        options["oauth_settings"] = AsyncOAuthSettings(
            client_id=settings.slack_client_id,
            client_secret=settings.client_secret,
            scopes=BOT_SCOPES,
            installation_store=installation_store,
            state_store=AsyncSQLAlchemyOAuthStateStore(expiration_seconds=600, engine=engine),
            install_path=INSTALL_PATH,
            redirect_uri_path=REDIRECT_PATH,
        )
        face.notifier.installation_store = installation_store
    bolt = AsyncApp(
        name="ownerbot",
        client=client,
        signing_secret=settings.signing_secret or "",
        request_verification_enabled=True,
        process_before_response=False,
        **options,
    )
    bolt.command(COMMAND_RE)(face.on_command)
    bolt.action(ACTION_RE)(face.on_action)
    bolt.view_submission(render.PROMPT_CALLBACK)(face.on_submit)
    bolt.event("app_home_opened")(face.on_home_opened)
    bolt.event("app_mention")(face.on_message_event)
    bolt.event("message")(face.on_message_event)
    bolt.event("user_change")(face.on_user_change)
    return bolt


SLACK_FACE = web.AppKey("slack_face", SlackFace)
SLACK_NOTIFIER = web.AppKey("slack_notifier", SlackNotifier)
SLACK_SOCKET = web.AppKey("slack_socket", object)


def mount(
    app: web.Application, *, handlers: Handlers, sessions: async_sessionmaker[AsyncSession], settings: SlackSettings
) -> PlatformStatus:
    """Mount the Slack routes (and Socket Mode) on the server; say whether Slack is on and why not."""
    why_off = settings.off_reason()
    if why_off:
        return PlatformStatus("slack", False, why_off)
    notifier = SlackNotifier(api_url=settings.slack_api_url, bot_token=None if settings.oauth else settings.bot_token)
    face = SlackFace(handlers=handlers, sessions=sessions, settings=settings, notifier=notifier)
    engine = sessions.kw.get("bind")
    bolt = build_bolt_app(face, settings, engine if isinstance(engine, AsyncEngine) else None)
    app[SLACK_FACE] = face
    app[SLACK_NOTIFIER] = notifier
    served: list[str] = []

    if settings.signing_secret:

        async def events(request: web.Request) -> web.Response:
            return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

        app.router.add_post(EVENTS_PATH, events)
        served.append(f"POST {EVENTS_PATH}")
        flow = bolt.oauth_flow
        if flow is not None:

            async def install(request: web.Request) -> web.Response:
                return await to_aiohttp_response(await flow.handle_installation(await to_bolt_request(request)))

            async def redirect(request: web.Request) -> web.Response:
                return await to_aiohttp_response(await flow.handle_callback(await to_bolt_request(request)))

            app.router.add_get(INSTALL_PATH, install)
            app.router.add_get(REDIRECT_PATH, redirect)
            served.append(f"install at {INSTALL_PATH}")

    if settings.app_token:
        socket = socket_mode_handler(bolt, settings)
        app[SLACK_SOCKET] = socket
        connecting: list[asyncio.Task[None]] = []

        async def connect(_: web.Application) -> None:
            connecting.append(asyncio.create_task(_connect_socket(socket)))

        async def disconnect(_: web.Application) -> None:
            for task in connecting:
                task.cancel()
            await socket.close_async()

        app.on_startup.append(connect)
        app.on_cleanup.append(disconnect)
        served.append("Socket Mode")

    async def finish_work(_: web.Application) -> None:
        try:
            await face.work.drain(seconds=10)
        except TimeoutError:
            log.warning("Slack work still running at shutdown")

    app.on_shutdown.append(finish_work)
    mode = "OAuth, any workspace" if settings.oauth else "one workspace"
    return PlatformStatus("slack", True, f"{', '.join(served)}; {mode}")


def socket_mode_handler(bolt: AsyncApp, settings: SlackSettings) -> Any:
    from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

    return AsyncSocketModeHandler(bolt, app_token=settings.app_token, web_client=bolt.client)


async def _connect_socket(socket: Any) -> None:
    try:
        await socket.connect_async()
        log.info("Slack Socket Mode connected")
    except Exception as error:  # keep serving; slack_sdk reconnects once a session exists
        log.error("Slack Socket Mode could not connect: %s", error)
