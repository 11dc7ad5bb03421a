"""Slack customer channels: `message` events in channels (Slack Connect too) and `reaction_added`, read only in
channels linked to a customer (`handlers.channel_intake`).

Thin, like every listener: bolt has verified the signature and acked; here a channel's message is translated
into a neutral `ChannelEvent` and handed over in one call. The order matters for safety: an unlinked channel is
dropped after one read (nothing is stored, not even the event id); the bot's own posts and other bots are
dropped before that; a linked channel's event is taken on once (`dedupe`, Slack's retries) in the transaction
that applies it.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from slack_bolt.app.async_app import AsyncApp
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Platform
from handlers.channel_intake import ChannelEvent, ChannelIntake, FirstTime

from . import dedupe
from .translate import team_of

if TYPE_CHECKING:
    from .listeners import SlackFace

log = logging.getLogger(__name__)
CHANNEL_TYPES = ("channel", "group")  # public and private channels; Slack Connect channels are either
EDITED, DELETED, BROADCAST, FILE = "message_changed", "message_deleted", "thread_broadcast", "file_share"
READ_SUBTYPES = (None, EDITED, DELETED, BROADCAST, FILE)


def outsider(body: dict[str, Any], event: dict[str, Any]) -> bool:
    """A member of another workspace or organisation (Slack Connect): Slack names their team on the message."""
    team = event.get("user_team") or event.get("team") or event.get("source_team")
    return bool(team) and team != team_of(body)


def is_bot(event: dict[str, Any]) -> bool:
    inner = event.get("message") if event.get("subtype") == EDITED else event
    inner = inner if isinstance(inner, dict) else {}
    return bool(event.get("bot_id") or inner.get("bot_id") or event.get("subtype") == "bot_message")


async def in_a_channel(event: dict[str, Any]) -> bool:
    """Bolt matcher: a message in a channel (never a DM: those are commands, `listeners.on_message_event`)."""
    return event.get("channel_type") in CHANNEL_TYPES


def channel_event(body: dict[str, Any], event: dict[str, Any]) -> ChannelEvent | None:
    """The neutral event, or None for what is never read (bots, joins, topic changes, our own posts)."""
    subtype = event.get("subtype")
    if subtype not in READ_SUBTYPES or is_bot(event):
        return None
    base = ChannelEvent(Platform.SLACK, team_of(body), str(event.get("channel", "")), message_id="")
    if subtype == EDITED:
        message = event.get("message") or {}
        if not message.get("ts"):
            return None
        return replace(base, message_id=str(message["ts"]), user_id=str(message.get("user", "")),
                       text=str(message.get("text", "")))  # fmt: skip
    if subtype == DELETED:
        deleted = event.get("deleted_ts") or (event.get("previous_message") or {}).get("ts")
        return replace(base, message_id=str(deleted)) if deleted else None
    if not event.get("user") or not event.get("ts"):
        return None
    return replace(
        base,
        message_id=str(event["ts"]),
        thread_id=str(event["thread_ts"]) if event.get("thread_ts") else None,
        user_id=str(event["user"]),
        text=str(event.get("text", "")),
        outsider=outsider(body, event),
    )


class SlackChannels:
    """The listeners for customer channels; `listen` registers them on the bolt app before the DM listener."""

    def __init__(self, face: SlackFace) -> None:
        self.face = face
        self.intake = ChannelIntake(face.handlers)

    def listen(self, bolt: AsyncApp) -> None:
        bolt.event("message", matchers=[in_a_channel])(self.on_channel_message)
        bolt.event("reaction_added")(self.on_reaction)

    def first_time(self, body: dict[str, Any]) -> FirstTime | None:
        """Slack's retries and repeated deliveries are taken on once: the event id's key row (`dedupe`) is written
        in the same transaction as what the event does, and only once the channel is known to be linked."""
        event_id = body.get("event_id")
        if not event_id:
            return None
        kind = str((body.get("event") or {}).get("type", ""))

        async def first(session: AsyncSession) -> bool:
            return await dedupe.taken_on(
                session, event_id=str(event_id), team_id=team_of(body), event_type=kind, now=self.face.clock()
            )

        return first

    async def on_channel_message(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        found = channel_event(body, event)
        if found is not None:  # bolt acks when the listener returns: the intake runs on after it
            self.face.work.spawn(self._take_in(found, event.get("subtype"), self.first_time(body)))

    async def _take_in(self, found: ChannelEvent, subtype: object, first: FirstTime | None) -> None:
        if subtype == EDITED:
            outcome = await self.intake.edited(found, first)
        elif subtype == DELETED:
            outcome = await self.intake.deleted(found, first)
        else:
            outcome = await self.intake.message(found, first)
        log.debug("Slack channel message: %s", outcome)

    async def on_reaction(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        item = event.get("item") or {}
        channel_id, message_id = str(item.get("channel", "")), str(item.get("ts", ""))
        if item.get("type") != "message" or not message_id or not channel_id:
            return
        found = ChannelEvent(
            platform=Platform.SLACK,
            workspace=team_of(body),
            channel_id=channel_id,
            message_id=message_id,
            user_id=str(event.get("user", "")),
            outsider=outsider(body, event),
        )
        self.face.work.spawn(self.intake.reaction(found, str(event.get("reaction", "")), self.first_time(body)))

    async def command_rule(self, team_id: str, channel_id: str | None, user_id: str) -> tuple[bool, bool]:
        """(refused, private) for a command typed in this channel, in one read: the customer never runs a command
        in their channel, and every answer there is private."""
        return await self.intake.command_rule(Platform.SLACK, team_id, channel_id, user_id)
