"""The Slack listeners, wired into a slack-bolt AsyncApp.

Every listener is thin: ack, translate the payload (`translate`), make one call into `Handlers`, answer
(`respond`, which renders Block Kit with `render`). Bolt verifies every request's signature and timestamp before
a listener runs. Slow work happens after the ack.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import astuple
from typing import Any

from slack_bolt.app.async_app import AsyncApp
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.settings import SlackSettings
from db.clock import Clock
from handlers import Handlers, Reply
from handlers.admission import Busy
from handlers.dispatch import IGNORED

from . import channels, dedupe, grid, members, render, respond, translate, uninstall
from .background import BackgroundWork
from .customer_channels import SlackChannels, outsider
from .guard import CUSTOMER_REFUSED, RequestKey, Rule, guard, request_key
from .notifier import RetryTiming, SlackNotifier, web_client
from .translate import Where

log = logging.getLogger(__name__)

INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
SLASH_COMMANDS = ("claim", "handoff", "release", "whoowns", "mine", "ownerbot")
BOT_SCOPES = [
    "commands",
    "chat:write",
    "chat:write.public",  # post vote cards in a team's public channel without being invited
    "channels:read",  # resolve `#wow` and check a typed channel
    "groups:read",  # the same for private channels the bot was invited to
    "im:write",
    "im:history",
    "app_mentions:read",
    "users:read",
    "channels:history",  # customer channels (issue 14): read only where linked
    "groups:history",
    "reactions:read",
]
KNOWN_LIMIT = 100_000  # known members remembered per process (then forgotten at once, and read again)
ANSWER_BUDGET = 2.0  # seconds a command, click or modal submit may take before its ack (Slack waits 3)
COMMAND_RE = re.compile(r"^/(" + "|".join(SLASH_COMMANDS) + r")$")
ACTION_RE = re.compile(r"^ownerbot\.")


class SlackFace:
    def __init__(
        self,
        *,
        handlers: Handlers,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        notifier: SlackNotifier,
    ) -> None:
        self.handlers = handlers
        self.sessions = sessions
        self.clock = clock
        self.notifier = notifier
        self.work = BackgroundWork()
        self.channels = SlackChannels(self)
        # (team, user) of people known to be members: a fact that never turns false, so every replica may keep
        # it. Their name and time zone are read in the command's own transaction (`Handlers.meet`), not here.
        self.known: set[tuple[str, str]] = set()

    # -- one call into the handlers -----------------------------------------------------------------------

    async def _invoker(self, client: AsyncWebClient, team_id: str, user_id: str, fallback: str) -> members.Profile:
        """Who is asking: nothing to look up for a known member (an empty profile changes nothing of theirs);
        a stranger's name and time zone come from users.info."""
        if (team_id, user_id) in self.known:
            return members.Profile("", None)
        try:
            async with self.handlers.admission.turn():
                known = await members.known_profile(self.sessions, team_id=team_id, user_id=user_id)
        except Busy:  # the command that follows will most likely be answered "busy" too
            return members.Profile("", None)
        if known is None:  # users.info outside the turn: a slow Slack holds up nobody's database work
            return await members.slack_profile(client, user_id, team_id=team_id) or members.Profile(
                fallback or user_id, None
            )
        self._known().add((team_id, user_id))
        return known

    def _known(self) -> set[tuple[str, str]]:
        if len(self.known) >= KNOWN_LIMIT:
            self.known.clear()
        return self.known

    async def run_command(
        self,
        client: AsyncWebClient,
        text: str,
        where: Where,
        fallback_name: str = "",
        workspace_name: str = "",
        request: RequestKey | None = None,
    ) -> Reply:
        """One command. Its dedupe key row (`request`) and the customer-channel rule are checked in the command's
        own transaction; only a command that names people or a channel, which are looked up in Slack (and
        stored) first, has the channel rule read before, so a customer's mentions are never looked up or stored.
        A stranger's own profile is read (users.info) before the rule, and stored only if the rule lets them in."""
        rule = Rule()
        strangers = [user for user in members.MENTION.findall(text) if (where.team_id, user) not in self.known]
        lookups = bool(strangers or channels.CHANNEL_OPTION.search(text))
        if lookups and not where.direct:
            refused, rule.private = await self.channels.command_rule(where.team_id, where.channel_id, where.user_id)
            if refused:
                return Reply(CUSTOMER_REFUSED, error=True)
        profile = await self._invoker(client, where.team_id, where.user_id, fallback_name)
        if lookups:
            try:
                text = await channels.resolve_typed_channels(client, text)
            except channels.ChannelUnusable as unusable:
                return Reply(str(unusable), error=True)
            await members.introduce_mentioned(
                self.sessions,
                client,
                team_id=where.team_id,
                text=text,
                now=self.clock(),
                admins=self.handlers.admins,
                known=self._known(),
            )
        in_channel = where.channel_id if where.channel_id and not where.direct and not lookups else None
        check = guard(
            request,
            channel=(where.team_id, in_channel, where.user_id) if in_channel else None,
            rule=rule,
            now=self.clock(),
        )
        reply = await self.handlers.command(translate.invocation(text, where, profile, workspace_name), check)
        if reply is IGNORED:
            log.info("Slack %s already handled; ignoring the replay", request.kind if request else "request")
        elif rule.private:
            reply.ephemeral = True
        return reply

    async def run_action(
        self,
        client: AsyncWebClient,
        where: Where,
        action_id: str,
        value: str,
        typed: str | None = None,
        fallback_name: str = "",
        picked: str | None = None,
        request: RequestKey | None = None,
    ) -> Reply:
        profile = await self._invoker(client, where.team_id, where.user_id, fallback_name)
        if picked:  # someone picked in a users_select may never have used ownerbot: introduce them first
            await members.introduce_mentioned(
                self.sessions,
                client,
                team_id=where.team_id,
                text=f"<@{picked}>",
                now=self.clock(),
                admins=self.handlers.admins,
                known=self._known(),
            )
        check = guard(request, channel=None, rule=Rule(), now=self.clock())
        reply = await self.handlers.action(
            translate.action_invocation(where, action_id, value, typed, profile, picked), check
        )
        if reply is IGNORED:
            log.info("Slack %s already handled; ignoring the replay", request.kind if request else "request")
        return reply

    # -- listeners ----------------------------------------------------------------------------------------

    async def on_command(
        self, ack: Any, body: dict[str, Any], client: AsyncWebClient, request: AsyncBoltRequest
    ) -> None:
        """The answer rides in the ack when the command is done within ANSWER_BUDGET (the usual case: one HTTP
        response, no second request to Slack, and the person sees it as soon as it is done); a slower command is
        acked empty and answered on its response_url when done. Either way the listener returns at the ack, and
        what runs on keeps only what the command needs (bolt's request, body and context stay behind)."""
        where = translate.command_where(body)
        answer = await self.work.spawn_within(
            self.run_command(
                client,
                translate.command_text(body),
                where,
                str(body.get("user_name", "")),
                workspace_name=str(body.get("team_domain", "")),
                request=request_key(body, request),
            ),
            ANSWER_BUDGET,
        )
        enterprise = grid.enterprise_of(body)
        reply = respond.outcome(answer)
        if reply is not None and reply is not IGNORED and respond.fits_in_ack(reply, where):
            await ack(respond.command_answer(reply))
            if enterprise:  # an Enterprise Grid workspace: keep its organization, after the ack
                self.work.spawn(grid.remember(self.sessions, team_id=where.team_id, enterprise_id=enterprise))
            return
        await ack()
        self.work.spawn(self._answer_later(answer, client, where, enterprise))

    async def _answer_later(
        self, answer: asyncio.Task[Reply], client: AsyncWebClient, where: Where, enterprise: str | None
    ) -> None:
        await asyncio.wait({answer})
        reply = respond.outcome(answer)
        if reply is not None:
            await self._deliver(reply, client, where, enterprise)

    async def _deliver(self, reply: Reply, client: AsyncWebClient, where: Where, enterprise: str | None) -> None:
        if reply is IGNORED:
            return
        await respond.deliver(client, self.notifier, reply, where)
        if where.home:
            await self.publish_home(client, where.team_id, where.user_id)
        await grid.remember(self.sessions, team_id=where.team_id, enterprise_id=enterprise)

    async def on_action(
        self, ack: Any, body: dict[str, Any], client: AsyncWebClient, request: AsyncBoltRequest
    ) -> None:
        """Answered on its response_url; the ack waits for the work up to ANSWER_BUDGET (bursts queue at Slack)."""
        clicked = body["actions"][0]
        where = translate.action_where(body)
        task = await self.work.spawn_within(
            self.run_action(
                client,
                where,
                clicked["action_id"],
                clicked.get("value", ""),
                fallback_name=body["user"].get("name", ""),
                request=request_key(body, request),
            ),
            ANSWER_BUDGET,
        )
        await ack()
        self.work.spawn(self._answer_later(task, client, where, None))

    async def on_submit(
        self, ack: Any, body: dict[str, Any], client: AsyncWebClient, request: AsyncBoltRequest
    ) -> None:
        if not await self._first_request(body, request):
            await ack()  # the form was already submitted: close it, change nothing
            return
        view = body["view"]
        context = render.PromptContext.load(view.get("private_metadata", ""))
        where = translate.submit_where(body, context)
        task = await self.work.spawn_within(
            self.run_action(
                client,
                where,
                context.action_id,
                context.value,
                render.prompt_answer(view),
                fallback_name=body["user"].get("name", ""),
                picked=render.picked_person(view),
            ),
            ANSWER_BUDGET,
        )
        if task.done() and task.exception() is None and task.result().error:
            # nothing changed: keep the modal open and say why, on the field
            await ack(response_action="errors", errors={render.PROMPT_BLOCK: render.clip(task.result().text, 300)})
            return
        await ack()  # done, or a slow database: close the modal now, answer when done
        self.work.spawn(self._answer_later(task, client, where, None))

    async def on_message_event(
        self, body: dict[str, Any], event: dict[str, Any], client: AsyncWebClient, context: Any
    ) -> None:
        bot_user = getattr(context, "bot_user_id", None) or (context or {}).get("bot_user_id")
        self.work.spawn(self._message_event(body, event, client, bot_user))

    async def _message_event(
        self, body: dict[str, Any], event: dict[str, Any], client: AsyncWebClient, bot_user: str | None
    ) -> None:
        if not translate.is_for_us(event) or not await self._first_delivery(body):
            return
        where = translate.message_where(body, event)
        if outsider(body, event):  # a member of another organisation (Slack Connect) never runs a command
            await respond.deliver(client, self.notifier, Reply(CUSTOMER_REFUSED, error=True), where)
            return
        reply = await self.run_command(client, translate.message_text(event, bot_user), where)
        await self._deliver(reply, client, where, grid.enterprise_of(body))

    async def on_home_opened(self, body: dict[str, Any], event: dict[str, Any], client: AsyncWebClient) -> None:
        if event.get("tab", "home") == "home":
            self.work.spawn(self._home_opened(body, event["user"], client))

    async def _home_opened(self, body: dict[str, Any], user_id: str, client: AsyncWebClient) -> None:
        if await self._first_delivery(body):
            await self.publish_home(client, translate.team_of(body), user_id)

    async def on_user_change(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        self.work.spawn(self._user_change(body, event))

    async def _user_change(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        if await self._first_delivery(body):
            await members.refresh_known(
                self.sessions, team_id=translate.team_of(body), user=event.get("user") or {}, now=self.clock()
            )

    async def on_app_uninstalled(self, body: dict[str, Any]) -> None:
        self.work.spawn(self._app_uninstalled(body))

    async def _app_uninstalled(self, body: dict[str, Any]) -> None:
        if await self._first_delivery(body):
            await uninstall.forget_workspace(self.sessions, self.notifier.installation_store, body)

    async def on_tokens_revoked(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        self.work.spawn(self._tokens_revoked(body, event))

    async def _tokens_revoked(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        if await self._first_delivery(body):
            await uninstall.forget_tokens(self.sessions, self.notifier.installation_store, body, event)

    async def _first_request(self, body: dict[str, Any], request: AsyncBoltRequest) -> bool:
        """A form submit seen for the first time, in a transaction of its own (its ack depends on it)."""
        key, team_id, kind = astuple(request_key(body, request))
        try:
            async with self.handlers.admission.turn():
                first = await dedupe.first_delivery(
                    self.sessions, event_id=key, team_id=team_id, event_type=kind, now=self.clock()
                )
        except Busy:
            log.warning("Slack %s not taken on: ownerbot is busy", kind)
            await respond.busy(body, self.notifier)
            return False
        if not first:
            log.info("Slack %s already handled; ignoring the replay", kind)
        return first

    async def _first_delivery(self, body: dict[str, Any]) -> bool:
        event_id = body.get("event_id")
        if not event_id:
            return True
        async with self.handlers.admission.turn():  # Busy: the delivery fails, and Slack retries it later
            first = await dedupe.first_delivery(
                self.sessions,
                event_id=str(event_id),
                team_id=translate.team_of(body),
                event_type=str((body.get("event") or {}).get("type", "")),
                now=self.clock(),
            )
        if not first:
            log.info("Slack event %s already handled; ignoring the repeat", event_id)
        return first

    async def publish_home(self, client: AsyncWebClient, team_id: str, user_id: str) -> None:
        reply = await self.run_command(client, "mine", Where(team_id=team_id, user_id=user_id))
        view = render.home_view(reply, updated=self.clock().strftime("%Y-%m-%d %H:%M UTC"))
        await client.views_publish(user_id=user_id, view=view)


def build_bolt_app(face: SlackFace, settings: SlackSettings, engine: AsyncEngine, timing: RetryTiming) -> AsyncApp:
    """The bolt app with every listener, and the OAuth install flow when the settings ask for it."""
    client = web_client(settings.slack_api_url, None if settings.oauth else settings.bot_token, timing=timing)
    options: dict[str, Any] = {}
    if settings.oauth:
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
        process_before_response=True,  # every listener returns at its ack; what follows runs on (`work`)
        **options,
    )
    bolt.command(COMMAND_RE)(face.on_command)
    bolt.action(ACTION_RE)(face.on_action)
    bolt.view_submission(render.PROMPT_CALLBACK)(face.on_submit)
    bolt.event("app_home_opened")(face.on_home_opened)
    face.channels.listen(bolt)  # before the DM listener: channel messages go to the customer channels
    bolt.event("app_mention")(face.on_message_event)
    bolt.event("message")(face.on_message_event)
    bolt.event("user_change")(face.on_user_change)
    bolt.event("app_uninstalled")(face.on_app_uninstalled)
    bolt.event("tokens_revoked")(face.on_tokens_revoked)
    return bolt
