"""Teams customer channels: messages in a channel linked to a customer (`handlers.channel_intake`).

With the resource-specific consent `ChannelMessage.Read.Group` (teams manifest) Teams sends the bot every message
of the team's channels, not only @mentions (docs/customer-channels.md explains the choice). So a channel message:
- not addressed to ownerbot: read only when the channel is linked (a guest's or anyone's who is not in ownerbot is
  the customer's; a team member's reply in a request's thread is the answer); otherwise dropped, nothing stored;
- addressed to ownerbot (@mention) by a team member: a command, as before;
- addressed to ownerbot by the customer in their linked channel: their message, never a command.
Edits, deletions and reactions (the team's 👍 by default) follow the same rules.
"""

from __future__ import annotations

from botbuilder.core import TurnContext
from botbuilder.schema import Activity

from db.models import Platform
from handlers import Handlers
from handlers.channel_intake import ChannelEvent, ChannelIntake

from .translate import command_text, conversation_id_of, conversation_kind, mentioned_bot_ids, user_id_of

THREAD_MARK = ";messageid="


def thread_of(activity: Activity) -> str | None:
    """The thread's first message for a reply in a channel thread; None for a new post."""
    raw = activity.conversation.id if activity.conversation else ""
    root = raw.split(THREAD_MARK, 1)[1] if THREAD_MARK in raw else (activity.reply_to_id or None)
    return root if root and root != activity.id else None


def addressed_to_bot(activity: Activity) -> bool:
    bot_id = activity.recipient.id if activity.recipient else None
    return bool(bot_id) and bot_id in mentioned_bot_ids(activity)


class TeamsChannels:
    def __init__(self, handlers: Handlers) -> None:
        self.intake = ChannelIntake(handlers)

    def event(self, activity: Activity, tenant: str, **values: object) -> ChannelEvent:
        return ChannelEvent(
            platform=Platform.TEAMS,
            workspace=tenant,
            channel_id=conversation_id_of(activity),
            message_id=str(activity.id or ""),
            user_id=user_id_of(activity.from_property),
            thread_id=thread_of(activity),
            **values,  # type: ignore[arg-type]
        )

    async def took_message(self, turn_context: TurnContext, tenant: str) -> bool:
        """Whether a channel message was handled here (read, or dropped); False: it is a command."""
        activity = turn_context.activity
        if conversation_kind(activity) != "channel" or isinstance(activity.value, dict):
            return False
        channel_id = conversation_id_of(activity)
        speaking = self.event(activity, tenant)
        if addressed_to_bot(activity):
            if not await self.intake.customer_speaking(Platform.TEAMS, tenant, channel_id, speaking.user_id):
                return False
        elif not await self.intake.linked(Platform.TEAMS, tenant, channel_id):
            return True  # another channel's chatter (RSC shows it all): ignored, nothing stored
        text = command_text(activity, {})
        await self.intake.message(self.event(activity, tenant, text=text))
        return True

    async def edited(self, turn_context: TurnContext, tenant: str) -> None:
        activity = turn_context.activity
        if conversation_kind(activity) == "channel":
            await self.intake.edited(self.event(activity, tenant, text=command_text(activity, {})))

    async def deleted(self, turn_context: TurnContext, tenant: str) -> None:
        activity = turn_context.activity
        if conversation_kind(activity) == "channel":
            await self.intake.deleted(self.event(activity, tenant))

    async def reacted(self, turn_context: TurnContext, tenant: str) -> None:
        activity = turn_context.activity
        if conversation_kind(activity) != "channel" or not activity.reply_to_id:
            return
        for reaction in activity.reactions_added or []:
            found = ChannelEvent(
                platform=Platform.TEAMS,
                workspace=tenant,
                channel_id=conversation_id_of(activity),
                message_id=str(activity.reply_to_id),
                user_id=user_id_of(activity.from_property),
            )
            await self.intake.reaction(found, str(reaction.type or ""))
