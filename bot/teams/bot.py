"""The Teams turn: verify the tenant, remember where the person is, translate, one handlers call, render, send.

Text commands come as messages (a personal chat, or an @mention in a channel). Card buttons come either as an
`adaptiveCard/action` invoke (Action.Execute; the answer replaces the card through the invoke response) or as a
message whose `value` holds the card's data (Action.Submit; the card is replaced with update_activity).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from http import HTTPStatus
from typing import Any

from botbuilder.core import ActivityHandler, InvokeResponse, TurnContext
from botbuilder.schema import Activity, ChannelAccount
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.settings import TeamsSettings
from db.models import Platform
from handlers import ActionInvocation, Handlers, Invocation, Prompt, Reply
from handlers.ports import DeliveryFailed

from . import references, roster
from .backoff import with_backoff
from .cards import (
    INPUT_ID,
    PEOPLE_DATASET,
    PERSON_ID,
    invoke_card_response,
    invoke_message_response,
    prompt_from_data,
    reply_activity,
    search_response,
)
from .channels import TeamsChannels
from .native_text import Readers, plain
from .notifier import TeamsNotifier
from .sizes import within_limit
from .translate import (
    command_text,
    conversation_id_of,
    conversation_kind,
    mentioned_bot_ids,
    tenant_of,
    user_id_of,
)

log = logging.getLogger(__name__)
TENANT_KEY = "ownerbot.tenant"
HANDLED_KEY = "ownerbot.handled"  # the handlers' Reply, once they answered: its change (if any) is committed
CARD_ACTION = "adaptiveCard/action"
SEARCH = "application/search"  # a Data.Query typeahead (the people picker)
WELCOME = (
    "Hi, I'm ownerbot: I make every support customer someone's. Type `help` for the commands, "
    "e.g. `claim acme` or `handoff acme @Sam the reason`."
)
OTHER_TENANT = "This ownerbot serves one organisation only, and it is not yours; nothing was read or changed."


class OwnerbotTeamsBot(ActivityHandler):  # type: ignore[misc]  # botbuilder ships no type information
    def __init__(
        self,
        *,
        handlers: Handlers,
        sessions: async_sessionmaker[AsyncSession],
        notifier: TeamsNotifier,
        settings: TeamsSettings,
        clock: Callable[[], datetime],
    ) -> None:
        self.handlers = handlers
        self.sessions = sessions
        self.notifier = notifier
        self.settings = settings
        self.clock = clock
        self.channels = TeamsChannels(handlers)  # customer channels (issue 14)

    # --- the turn -------------------------------------------------------------------------------------------
    async def on_turn(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        tenant = tenant_of(activity)
        if tenant is None:
            log.warning("Teams %s activity without a tenant id ignored", activity.type)
            return
        allowed = self.settings.single_tenant
        if allowed and tenant != allowed:
            log.warning("Teams activity from another tenant refused (single-tenant app)")
            if activity.type == "message":
                await self._send(turn_context, Reply(OTHER_TENANT, error=True))
            return
        if activity.type in ("message", "invoke") and not (activity.from_property and activity.from_property.id):
            log.warning("Teams %s activity without a sender ignored", activity.type)
            return
        turn_context.turn_state[TENANT_KEY] = tenant
        await super().on_turn(turn_context)

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        tenant = turn_context.turn_state[TENANT_KEY]
        if await self.channels.took_message(turn_context, tenant):  # a channel's message, not a command
            return
        if isinstance(activity.value, dict) and activity.value.get("action_id"):
            await self._remember(turn_context)
            await self._card_action(turn_context, activity.value, via_invoke=False)
            return
        known = await self._meet_mentioned(turn_context)
        text = command_text(activity, known)
        reply = await self.handlers.command(
            Invocation(
                platform=Platform.TEAMS,
                workspace=tenant,
                user_id=user_id_of(activity.from_property),
                text=text,
                user_name=activity.from_property.name or "",
                channel_id=conversation_id_of(activity),
                time_zone=activity.local_timezone,
            )
        )
        turn_context.turn_state[HANDLED_KEY] = reply
        await self._send(turn_context, reply)  # its notices went to the outbox; its sender delivers them

    async def on_message_update_activity(self, turn_context: TurnContext) -> None:
        await self.channels.edited(turn_context, turn_context.turn_state[TENANT_KEY])

    async def on_message_delete_activity(self, turn_context: TurnContext) -> None:
        await self.channels.deleted(turn_context, turn_context.turn_state[TENANT_KEY])

    async def on_reactions_added(self, message_reactions: Any, turn_context: TurnContext) -> None:
        await self.channels.reacted(turn_context, turn_context.turn_state[TENANT_KEY])

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse | None:
        activity = turn_context.activity
        if activity.name == SEARCH:
            return await self._search_people(turn_context)
        if activity.name != CARD_ACTION:
            return await super().on_invoke_activity(turn_context)
        await self._remember(turn_context)
        value = activity.value if isinstance(activity.value, dict) else {}
        action = value.get("action")
        data = action.get("data") if isinstance(action, dict) else None
        if not isinstance(data, dict):
            data = {}
        if not data.get("action_id"):
            return InvokeResponse(
                status=int(HTTPStatus.BAD_REQUEST),
                body={
                    "statusCode": 400,
                    "type": "application/vnd.microsoft.error",
                    "value": {"code": "BadRequest", "message": "This card action carries no ownerbot action."},
                },
            )
        body = await self._card_action(turn_context, data, via_invoke=True)
        return InvokeResponse(status=int(HTTPStatus.OK), body=body)

    async def on_conversation_update_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        added = list(activity.members_added or [])
        await self._remember(turn_context, members=added)
        bot_id = activity.recipient.id if activity.recipient else None
        if any(m.id == bot_id for m in added):
            if conversation_kind(activity) == "personal":
                await self._send(turn_context, Reply(WELCOME))
            else:
                await self._meet_team(turn_context)

    async def on_installation_update(self, turn_context: TurnContext) -> None:
        if turn_context.activity.action in ("add", "add-upgrade"):
            await self._remember(turn_context)
            await self._meet_team(turn_context)
        elif turn_context.activity.action in ("remove", "remove-upgrade"):
            # uninstalled: that conversation can't be reached any more, so later sends fail clearly, not silently
            async with self.sessions() as session, session.begin():
                await references.forget_conversation(
                    session,
                    tenant=turn_context.turn_state[TENANT_KEY],
                    conversation_id=conversation_id_of(turn_context.activity),
                )

    # --- card actions --------------------------------------------------------------------------------------
    async def _card_action(
        self, turn_context: TurnContext, data: dict[str, Any], *, via_invoke: bool
    ) -> dict[str, Any] | None:
        activity = turn_context.activity
        action_id, value = str(data.get("action_id")), str(data.get("value") or "")
        typed = data.get(INPUT_ID)
        picked = data.get(PERSON_ID)
        reply = await self.handlers.action(
            ActionInvocation(
                platform=Platform.TEAMS,
                workspace=turn_context.turn_state[TENANT_KEY],
                user_id=user_id_of(activity.from_property),
                action_id=action_id,
                value=value,
                input=str(typed) if typed is not None else None,
                picked_user=str(picked) if picked else None,
                user_name=activity.from_property.name or "",
                channel_id=conversation_id_of(activity),
                time_zone=activity.local_timezone,
            )
        )
        turn_context.turn_state[HANDLED_KEY] = reply
        shown = card_after(reply, prompt_from_data(action_id, value, data.get("prompt")))
        body = None
        # A click on a card in a channel (a gesture vote) is answered to the clicker alone, never in the channel.
        private = reply.ephemeral and in_channel(activity)
        if via_invoke:
            if shown is not None:
                body = invoke_card_response(shown, await self._readers(turn_context, shown))
            else:
                if not private:
                    await self._send(turn_context, reply)
                # shown to the clicker only, as plain text: names for people, their own zone for times
                body = invoke_message_response(
                    plain(reply.text, await self._readers(turn_context, reply, privately=True))
                )
        elif shown is not None and activity.reply_to_id:
            readers = await self._readers(turn_context, shown)
            await within_limit(
                lambda budget: self._retrying(
                    lambda: turn_context.update_activity(
                        reply_activity(shown, activity_id=activity.reply_to_id, budget=budget, readers=readers)
                    ),
                    "a card update",
                )
            )
        elif private:
            await self._send_privately(turn_context, reply)
        else:
            await self._send(turn_context, reply)  # its notices went to the outbox; its sender delivers them
        return body

    # --- plumbing ------------------------------------------------------------------------------------------
    async def _remember(
        self, turn_context: TurnContext, *, members: Sequence[ChannelAccount] = (), lookup: Sequence[str] = ()
    ) -> dict[str, str]:
        """Store this conversation's reference and the people in it; return Entra ids for `lookup` ids."""
        activity = turn_context.activity
        tenant = turn_context.turn_state[TENANT_KEY]
        now = self.clock()
        async with self.sessions() as session, session.begin():
            await references.remember_conversation(session, tenant=tenant, activity=activity, now=now)
            for account in [activity.from_property, *members]:
                if account is not None:
                    await references.remember_member(
                        session, tenant=tenant, account=account, activity=activity, now=now
                    )
            return await references.known_users(session, tenant=tenant, bot_user_ids=list(lookup))

    async def _meet_mentioned(self, turn_context: TurnContext) -> dict[str, str]:
        """Bot Framework id -> Entra id for everyone @mentioned, looking up in the team's roster whoever was never
        seen; each of them is an ownerbot member afterwards, so a command can name them on day one."""
        activity = turn_context.activity
        mentioned = mentioned_bot_ids(activity)
        known = await self._remember(turn_context, lookup=mentioned)
        bot_id = activity.recipient.id if activity.recipient else None
        unknown = [m for m in mentioned if m != bot_id and m not in known]
        fetched = await roster.look_up(turn_context, unknown) if unknown else []
        tenant = turn_context.turn_state[TENANT_KEY]
        async with self.sessions() as session, session.begin():
            now = self.clock()
            known.update(
                await roster.meet(
                    session, tenant=tenant, accounts=fetched, activity=activity, admins=self.handlers.admins, now=now
                )
            )
            seen = [known[m] for m in mentioned if m in known]
            await roster.meet_known(session, tenant=tenant, users=seen, admins=self.handlers.admins, now=now)
        return known

    async def _meet_team(self, turn_context: TurnContext) -> None:
        """The bot was added to a team: everyone in it becomes known (Teams announced only the bot)."""
        people = await roster.read_team(turn_context)
        if not people:
            return
        async with self.sessions() as session, session.begin():
            await roster.meet(
                session,
                tenant=turn_context.turn_state[TENANT_KEY],
                accounts=people,
                activity=turn_context.activity,
                admins=self.handlers.admins,
                now=self.clock(),
            )
        log.info("read the team's roster: %d people", len(people))

    async def _retrying(self, call, what: str):  # type: ignore[no-untyped-def]
        return await with_backoff(
            call,
            attempts=self.settings.teams_send_attempts,
            base_seconds=self.settings.teams_retry_base_seconds,
            what=what,
        )

    async def _readers(self, turn_context: TurnContext, reply: Reply, *, privately: bool = False) -> Readers:
        """Who the reply names and, in a personal chat (or for the sender alone), whose zone its times are in."""
        activity = turn_context.activity
        alone = privately or conversation_kind(activity) == "personal"
        reader = user_id_of(activity.from_property) if alone else None
        async with self.sessions() as session:
            return await references.readers(
                session, tenant=turn_context.turn_state[TENANT_KEY], reply=reply, reader=reader
            )

    async def _search_people(self, turn_context: TurnContext) -> InvokeResponse:
        """The people picker's typeahead (`application/search` for PEOPLE_DATASET): matching roster names."""
        value = turn_context.activity.value if isinstance(turn_context.activity.value, dict) else {}
        if value.get("dataset") != PEOPLE_DATASET:
            return InvokeResponse(status=int(HTTPStatus.OK), body=search_response([]))
        async with self.sessions() as session:
            found = await roster.search(
                session, tenant=turn_context.turn_state[TENANT_KEY], text=str(value.get("queryText") or "")[:100]
            )
        return InvokeResponse(status=int(HTTPStatus.OK), body=search_response((m.name, m.user_id) for m in found))

    async def _send(self, turn_context: TurnContext, reply: Reply) -> None:
        readers = await self._readers(turn_context, reply)
        await within_limit(
            lambda budget: self._retrying(
                lambda: turn_context.send_activity(reply_activity(reply, budget=budget, readers=readers)), "a reply"
            )
        )

    async def _send_privately(self, turn_context: TurnContext, reply: Reply) -> None:
        """Answer the sender in their personal chat (Teams has no ephemeral messages in a channel)."""
        try:
            await self.notifier.send_direct(
                workspace=turn_context.turn_state[TENANT_KEY],
                user_id=user_id_of(turn_context.activity.from_property),
                reply=reply,
            )
        except DeliveryFailed as failed:
            log.warning("could not answer a channel card click privately: %s", failed)


def in_channel(activity: Activity) -> bool:
    return bool(activity.conversation and activity.conversation.conversation_type == "channel")


def card_after(reply: Reply, prompt: Prompt | None) -> Reply | None:
    """What the clicked card should turn into, or None to leave it and answer with a new message.

    A prompt card always turns into its answer (or into itself again, with the error, so the person can fix it);
    another card turns into the answer when the answer replaces it or asks a follow-up question.
    """
    if prompt is not None:
        if reply.error and reply.prompt is None:
            return Reply(reply.text, error=True, prompt=prompt)
        return reply
    if reply.replace_original or reply.prompt is not None:
        return reply
    return None


NOTHING_CHANGED = "Something went wrong on our side and nothing was changed. Please try again."
SAVED_BUT_UNSHOWN = (
    "Done: what you asked for is saved, but Teams did not take my answer, so I couldn't show it. "
    "Please don't repeat it; type `mine` (or `history <customer>`) to see where things stand."
)


def what_happened(turn_context: TurnContext) -> str:
    """The honest apology: a change the handlers committed is saved, whatever failed after it."""
    handled = turn_context.turn_state.get(HANDLED_KEY)
    if isinstance(handled, Reply) and not handled.error:
        return SAVED_BUT_UNSHOWN
    return NOTHING_CHANGED


async def on_turn_error(turn_context: TurnContext, error: Exception) -> None:
    log.error("Teams turn failed: %s", type(error).__name__, exc_info=error)
    try:
        await turn_context.send_activity(Activity(type="message", text=what_happened(turn_context)))
    except Exception:  # the connector itself may be what failed
        log.warning("could not tell the person about the failed turn")
