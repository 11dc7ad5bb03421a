"""The Teams `Notifier`: DMs and channel posts the bot sends on its own initiative, via `continue_conversation`.

A person the bot has a personal chat with gets the message there. A person only seen in a team (a message in a
channel, or listed when the bot was added) gets a new 1:1 chat created for them first. A person never seen at all
cannot be reached on Teams: that is a permanent `DeliveryFailed` whose message a lead can act on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from botbuilder.core import BotAdapter, TurnContext
from botbuilder.schema import ChannelAccount, ConversationAccount, ConversationParameters, ConversationReference
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.settings import TeamsSettings
from db.models import Platform, TeamsMember
from handlers import Reply
from handlers.ports import DeliveryFailed, MessageRef

from . import references
from .backoff import connector_status, is_transient, retry_after, with_backoff
from .cards import reply_activity
from .native_text import Readers
from .sizes import within_limit

log = logging.getLogger(__name__)
TEAMS_CHANNEL = "msteams"


class TeamsNotifier:
    platform = Platform.TEAMS

    def __init__(
        self,
        adapter: BotAdapter,
        sessions: async_sessionmaker[AsyncSession],
        settings: TeamsSettings,
        clock: Callable[[], datetime],
    ) -> None:
        self.adapter = adapter
        self.sessions = sessions
        self.settings = settings
        self.clock = clock

    @property
    def app_id(self) -> str | None:
        return self.settings.microsoft_app_id or None

    async def _retrying(self, call, what: str):  # type: ignore[no-untyped-def]
        return await with_backoff(
            call,
            attempts=self.settings.teams_send_attempts,
            base_seconds=self.settings.teams_retry_base_seconds,
            what=what,
        )

    def _failed(self, error: Exception, who: str) -> DeliveryFailed:
        status = connector_status(error)
        if is_transient(error):
            return DeliveryFailed(
                f"Teams is busy (HTTP {status}); the message to {who} will be retried.",
                retry_after=retry_after(error) or 30.0,
            )
        if status in (401, 403, 404):
            return DeliveryFailed(
                f"Teams refused the message to {who} (HTTP {status}): they may have removed ownerbot, or blocked it.",
                permanent=True,
            )
        log.warning("Teams delivery to %s failed: %s", who, type(error).__name__)
        return DeliveryFailed(f"Teams did not take the message to {who} ({type(error).__name__}).", retry_after=60.0)

    def _check_service_url(self, url: str | None, who: str) -> None:
        """Never call a Bot Connector ownerbot does not trust (a row stored before the allow-list, or edited)."""
        if not self.settings.trusts_service_url(url):
            raise DeliveryFailed(
                f"ownerbot did not send the message to {who}: their Teams conversation points at a Bot Connector "
                "host that is not Microsoft's (nor in TEAMS_SERVICE_HOSTS).",
                permanent=True,
            )

    async def _readers(self, tenant: str, reply: Reply, reader: str | None) -> Readers:
        async with self.sessions() as session:
            return await references.readers(session, tenant=tenant, reply=reply, reader=reader)

    async def _send(self, reference: ConversationReference, reply: Reply, who: str, readers: Readers) -> str:
        sent: dict[str, str] = {}

        async def send(context: TurnContext) -> None:
            context.activity.id = None  # a new message, not a reply to the made-up continuation activity
            response = await within_limit(
                lambda budget: self._retrying(
                    lambda: context.send_activity(reply_activity(reply, budget=budget, readers=readers)),
                    f"a message to {who}",
                )
            )
            sent["id"] = response.id if response and response.id else ""

        await self._continue(reference, send, who)
        return sent.get("id", "")

    async def _continue(self, reference: ConversationReference, logic, who: str) -> None:  # type: ignore[no-untyped-def]
        """Run `logic` in the conversation; its failure becomes a DeliveryFailed (botbuilder would swallow it)."""
        self._check_service_url(reference.service_url, who)
        failure: list[Exception] = []

        async def guarded(context: TurnContext) -> None:
            try:
                await logic(context)
            except Exception as error:
                failure.append(error)

        try:
            await self.adapter.continue_conversation(reference, guarded, self.app_id)
        except Exception as error:
            failure.append(error)
        if failure:
            raise self._failed(failure[0], who) from failure[0]

    async def send_direct(self, *, workspace: str, user_id: str, reply: Reply) -> MessageRef:
        async with self.sessions() as session:
            chat = await references.personal_conversation(session, tenant=workspace, user=user_id)
            person = await references.member(session, tenant=workspace, user=user_id) if chat is None else None
            name = await references.display_name(session, tenant=workspace, user=user_id)
        if chat is not None:
            reference = references.reference_from_json(chat.reference)
        elif person is not None:
            reference = await self._open_personal_chat(workspace, user_id, person, name)
        else:
            raise DeliveryFailed(
                f"{name} has never talked to ownerbot on Teams, so I can't message them there. "
                "Ask them to say hi to ownerbot in a chat (or add ownerbot to their team).",
                permanent=True,
            )
        readers = await self._readers(workspace, reply, user_id)
        message_id = await self._send(reference, reply, name, readers)
        return MessageRef(Platform.TEAMS, workspace, reference.conversation.id, message_id)

    async def _open_personal_chat(
        self, tenant: str, user_id: str, person: TeamsMember, name: str
    ) -> ConversationReference:
        """Create the 1:1 chat with someone seen only in a team (POST /v3/conversations) and remember it."""
        self._check_service_url(person.service_url, name)
        parameters = ConversationParameters(
            is_group=False,
            bot=ChannelAccount(id=person.bot_id),
            members=[ChannelAccount(id=person.bot_user_id)],
            tenant_id=tenant,
            channel_data={"tenant": {"id": tenant}},
        )
        created: dict[str, str] = {}

        async def opened(context: TurnContext) -> None:
            created["id"] = context.activity.conversation.id

        try:
            await self._retrying(
                lambda: self.adapter.create_conversation(
                    self.app_id, opened, parameters, TEAMS_CHANNEL, person.service_url
                ),
                f"a chat with {name}",
            )
        except Exception as error:
            raise self._failed(error, name) from error
        if not created.get("id"):
            raise DeliveryFailed(f"Teams did not open a chat with {name}.", retry_after=60.0)
        reference = ConversationReference(
            channel_id=TEAMS_CHANNEL,
            service_url=person.service_url,
            conversation=ConversationAccount(id=created["id"], tenant_id=tenant, conversation_type="personal"),
            bot=ChannelAccount(id=person.bot_id),
            user=ChannelAccount(id=person.bot_user_id, aad_object_id=user_id, name=person.name),
        )
        async with self.sessions() as session, session.begin():
            await references.remember_personal(
                session, tenant=tenant, user=user_id, reference=reference, now=self.clock()
            )
        return reference

    async def post_channel(self, *, workspace: str, channel_id: str, reply: Reply) -> MessageRef:
        async with self.sessions() as session:
            row = await references.conversation(session, tenant=workspace, conversation_id=channel_id)
        if row is None:
            raise DeliveryFailed(
                "ownerbot is not in that Teams channel yet: add ownerbot to the team, then try again.", permanent=True
            )
        reference = references.reference_from_json(row.reference)
        if reply.thread and reference.conversation is not None:  # a reply in that thread of the channel
            reference.conversation.id = f"{channel_id};messageid={reply.thread}"
        readers = await self._readers(workspace, reply, None)  # many readers: cards show times in each one's zone
        message_id = await self._send(reference, reply, "the channel", readers)
        return MessageRef(Platform.TEAMS, workspace, channel_id, message_id)

    async def update(self, *, ref: MessageRef, reply: Reply) -> None:
        async with self.sessions() as session:
            row = await references.conversation(session, tenant=ref.workspace, conversation_id=ref.channel_id)
        if row is None:
            raise DeliveryFailed("That Teams conversation is unknown to ownerbot.", permanent=True)
        reference = references.reference_from_json(row.reference)
        readers = await self._readers(ref.workspace, reply, row.user_id if row.kind == "personal" else None)

        async def change(context: TurnContext) -> None:
            await within_limit(
                lambda budget: self._retrying(
                    lambda: context.update_activity(
                        reply_activity(reply, activity_id=ref.message_id, budget=budget, readers=readers)
                    ),
                    "a card update",
                )
            )

        await self._continue(reference, change, "the conversation")
