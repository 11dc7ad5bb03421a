"""What a linked customer channel's messages do, for every platform: group-committed, each event applied once.

The faces translate their events into `ChannelEvent`s and call `ChannelIntake`; only linked channels are read
(`linked` is one read; an unlinked channel's message is dropped before anything is written). A new request owes,
in its own transaction, through the outbox: one short line in its thread naming the owner (unless the channel is
quiet) and a DM to the owner (an unowned customer: the team) with the customer's words, the tier, the due time
and the buttons Take it / Hand off / Not a request. Customer words are never logged.

Events that arrive together are written in one transaction (group commit: while one batch is being written, the
next one gathers), each still guarded by its own key row (Slack's event id) and the message's own row, so a retry or
a repeat changes nothing. If anything in a batch fails, the whole batch is rolled back and each event is applied
alone in its own transaction, exactly as without batching, so one bad event never costs the others.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import exc, select
from sqlalchemy.ext.asyncio import AsyncSession

from db import outbox
from db.models import Customer, CustomerChannel, Member, Platform, Ticket, TicketStatus
from nudges.clocks import show_due, ticket_clocks
from nudges.levels import ServiceLevels
from ownership import customer_channels as channel_domain
from ownership import requests as request_domain
from ownership import ticket_views
from ownership.custody import acting_owner
from ownership.text import storable

from .channels import RequestAction
from .dispatch import Handlers
from .replies import Button, Reply
from .reply_json import reply_to_json

log = logging.getLogger(__name__)
QUOTE_CHARS = 500
BATCH = 100  # events written in one transaction at most (group commit)
Work = Callable[[AsyncSession, CustomerChannel], Awaitable[str]]
# The face's "first time this delivery is seen" (Slack's event-id key row), run in the work's own transaction
# once the channel is known to be linked: a retried delivery then changes nothing, an unlinked channel stores nothing.
FirstTime = Callable[[AsyncSession], Awaitable[bool]]


@dataclass(frozen=True)
class ChannelEvent:
    """A message (or its edit, deletion or a reaction on it) in a channel, as the face read it."""

    platform: Platform
    workspace: str  # the platform's workspace / tenant id
    channel_id: str
    message_id: str  # the message's id (a reaction's: the message reacted to)
    user_id: str = ""  # who wrote it (reacted)
    thread_id: str | None = None  # the thread's first message, for a reply
    text: str = ""
    outsider: bool = False  # from another organisation (Slack Connect) or a guest: always the customer


@dataclass
class _Pending:
    """An event waiting for the next group commit, and where its outcome goes."""

    event: ChannelEvent
    work: Work
    first: FirstTime | None
    done: asyncio.Future[str] = field(repr=False)


class ChannelIntake:
    """Applies channel events by group commit: one transaction for the events that arrive together, each event
    still taken on once and applied once (a batch that fails is rolled back and each event applied alone)."""

    def __init__(self, handlers: Handlers) -> None:
        self.handlers = handlers
        self._queue: list[_Pending] = []
        self._committer: asyncio.Task[None] | None = None

    async def linked(self, platform: Platform, workspace: str, channel_id: str) -> bool:
        """Whether a channel is linked to a customer: the only channels whose messages are read (one read)."""
        async with self.handlers.sessions() as session:
            return (
                await channel_domain.link_of(session, platform=platform, workspace=workspace, channel_id=channel_id)
                is not None
            )

    async def command_rule(
        self, platform: Platform, workspace: str, channel_id: str | None, user_id: str
    ) -> tuple[bool, bool]:
        """For a command typed in a channel, in one read: (refused, private). In a linked channel anyone who is not
        on the team is the customer and never runs a command; the team's answers there are always private (the
        customer never sees what the team says to us)."""
        if not channel_id:
            return False, False
        async with self.handlers.sessions() as session:
            return await command_rule_in(session, platform, workspace, channel_id, user_id)

    async def customer_speaking(self, platform: Platform, workspace: str, channel_id: str | None, user_id: str) -> bool:
        """Someone the bot treats as the customer here: in a linked channel, anyone who is not on the team."""
        refused, _private = await self.command_rule(platform, workspace, channel_id, user_id)
        return refused

    async def message(self, event: ChannelEvent, first: FirstTime | None = None) -> str:
        """A new message: a request opened, a note on one, or ignored. Returns which (for tests and logs)."""
        return await self._apply(event, lambda session, link: self._message(session, link, event), first)

    async def edited(self, event: ChannelEvent, first: FirstTime | None = None) -> str:
        return await self._apply(event, lambda session, link: self._edited(session, link, event), first)

    async def deleted(self, event: ChannelEvent, first: FirstTime | None = None) -> str:
        return await self._apply(event, lambda session, link: self._deleted(session, link, event), first)

    async def reaction(self, event: ChannelEvent, emoji: str, first: FirstTime | None = None) -> str:
        async def work(session: AsyncSession, link: CustomerChannel) -> str:
            agent = await _member(session, link.workspace_id, event.user_id)
            if agent is None or event.outsider:
                return "ignored"  # the customer's reactions resolve nothing
            resolved = await request_domain.resolve_by_reaction(
                session,
                link=link,
                channel_id=event.channel_id,
                message_id=event.message_id,
                emoji=emoji,
                agent=agent,
                platform=event.platform,
                now=self.handlers.clock(),
            )
            return "resolved" if resolved is not None else "ignored"

        return await self._apply(event, work, first)

    # -- one transaction each --------------------------------------------------------------------------------

    async def _apply(self, event: ChannelEvent, work: Work, first: FirstTime | None) -> str:
        """Queue the event for the next group commit and wait for what it did."""
        pending = _Pending(event, work, first, asyncio.get_running_loop().create_future())
        self._queue.append(pending)
        if self._committer is None or self._committer.done():
            self._committer = asyncio.create_task(self._commit_queued())
        return await asyncio.shield(pending.done)

    async def _commit_queued(self) -> None:
        """Group commit: the events that arrived while the previous batch was being written go in together."""
        batch: list[_Pending] = []
        try:
            while self._queue:
                batch, self._queue = self._queue[:BATCH], self._queue[BATCH:]
                try:
                    outcomes = await self._together(batch) if len(batch) > 1 else None
                except Exception:  # one event failed (or a replica applied one first): each alone, as if unbatched
                    outcomes = None
                if outcomes is None:
                    outcomes = [await self._alone(pending) for pending in batch]
                for pending, outcome in zip(batch, outcomes, strict=True):
                    if not pending.done.done():
                        pending.done.set_result(outcome)
        finally:  # cancelled (shutdown): nobody waits forever
            leftover, self._queue = batch + self._queue, []
            for pending in leftover:
                if not pending.done.done():
                    pending.done.set_result("error")

    async def _together(self, batch: list[_Pending]) -> list[str]:
        """A batch in one transaction: each event's link read once per channel, each event still taken on once
        (its key row) and applied once. Any failure rolls the whole batch back (the caller then applies each alone)."""
        outcomes: list[str] = []
        links: dict[tuple[Platform, str, str], CustomerChannel | None] = {}
        async with self.handlers.sessions() as session, session.begin():
            for pending in batch:
                event = pending.event
                key = (event.platform, event.workspace, event.channel_id)
                if key not in links:
                    found = await channel_domain.link_of(
                        session, platform=event.platform, workspace=event.workspace, channel_id=event.channel_id
                    )
                    links[key] = found[1] if found is not None else None
                link = links[key]
                if link is None:
                    outcomes.append("ignored")  # only linked channels are read: nothing was written
                elif pending.first is not None and not await pending.first(session):
                    outcomes.append("duplicate")
                else:
                    outcomes.append(await pending.work(session, link))
            owed = outbox.owes_messages(session)
        if owed and self.handlers.wake_sender is not None:
            self.handlers.wake_sender()
        return outcomes

    async def _alone(self, pending: _Pending) -> str:
        event, work, first = pending.event, pending.work, pending.first
        try:
            async with self.handlers.sessions() as session, session.begin():
                found = await channel_domain.link_of(
                    session, platform=event.platform, workspace=event.workspace, channel_id=event.channel_id
                )
                if found is None:
                    return "ignored"  # only linked channels are read: nothing was written
                if first is not None and not await first(session):
                    return "duplicate"
                outcome: str = await work(session, found[1])
                owed = outbox.owes_messages(session)
        except exc.IntegrityError:  # the same message applied concurrently by another replica
            return "duplicate"
        except Exception as error:  # the kind only: the message is the customer's text
            log.error("a customer channel message could not be applied (%s)", type(error).__name__)
            return "error"
        if owed and self.handlers.wake_sender is not None:
            self.handlers.wake_sender()
        return outcome

    async def _message(self, session: AsyncSession, link: CustomerChannel, event: ChannelEvent) -> str:
        now = self.handlers.clock()
        agent = None if event.outsider else await _member(session, link.workspace_id, event.user_id)
        post = request_domain.ChannelPost(
            channel_id=event.channel_id,
            message_id=event.message_id,
            thread_id=event.thread_id,
            author=event.user_id,
            text=storable(event.text),
        )
        done = await request_domain.ingest_post(
            session, link=link, post=post, agent=agent, platform=event.platform, now=now
        )
        if done is None:
            return "ignored"
        if done.opened is None:
            return "noted"
        await self._announce(session, link, event, done.ticket)
        return "opened"

    async def _edited(self, session: AsyncSession, link: CustomerChannel, event: ChannelEvent) -> str:
        changed = await request_domain.edit_post(
            session,
            workspace_id=link.workspace_id,
            channel_id=event.channel_id,
            message_id=event.message_id,
            text=storable(event.text),
            now=self.handlers.clock(),
        )
        return "edited" if changed is not None else "ignored"

    async def _deleted(self, session: AsyncSession, link: CustomerChannel, event: ChannelEvent) -> str:
        changed = await request_domain.delete_post(
            session,
            workspace_id=link.workspace_id,
            channel_id=event.channel_id,
            message_id=event.message_id,
            now=self.handlers.clock(),
        )
        return "deleted" if changed is not None else "ignored"

    async def _announce(
        self, session: AsyncSession, link: CustomerChannel, event: ChannelEvent, ticket: Ticket
    ) -> None:
        """The owner named in the thread, and the DM to whoever acts for the owner (unowned: the team)."""
        now = self.handlers.clock()
        customer = await session.get(Customer, ticket.customer_id)
        assert customer is not None
        acting = await _acting(session, ticket, now)
        told = [acting] if acting is not None else await ticket_views.team_to_tell(session, customer=customer)
        if link.announce:
            line = (
                f"Thanks, we've got it: {acting.display_name} from the team is on it (#{ticket.id})."
                if acting is not None
                else f"Thanks, we've got it (#{ticket.id}); someone from the team will answer here."
            )
            await outbox.enqueue(
                session,
                key=f"request:{ticket.id}:thread",
                platform=event.platform,
                workspace=event.workspace,
                target=event.channel_id,
                direct=False,
                purpose="notice",
                content=reply_to_json(Reply(line, ephemeral=False, thread=event.message_id)),
                now=now,
            )
        dm = await self._owner_message(session, customer, ticket, event.text, owned=acting is not None)
        for person in told:
            await outbox.enqueue(
                session,
                key=f"request:{ticket.id}:dm:{person.platform_user_id}",
                platform=event.platform,
                workspace=event.workspace,
                target=person.platform_user_id,
                direct=True,
                purpose="notice",
                content=reply_to_json(dm),
                now=now,
            )

    async def _owner_message(
        self, session: AsyncSession, customer: Customer, ticket: Ticket, text: str, *, owned: bool
    ) -> Reply:
        words = request_domain.clipped(storable(text))
        quoted = words if len(words) <= QUOTE_CHARS else words[: QUOTE_CHARS - 1] + "…"
        who = "your customer " if owned else "(nobody owns them: please take it) "
        fields = [("Tier", customer.tier.value), ("Tone", ticket.mood.value)]
        due = await _first_response_due(session, self.handlers, customer, ticket)
        if due:
            fields.append(("First response due", due))
        value = str(ticket.id)
        return Reply(
            f"New request #{ticket.id} from {who}{customer.name} in their channel: “{quoted}”",
            fields=fields,
            buttons=[
                Button("Take it", RequestAction.TAKE, value, style="primary"),
                Button("Hand off", RequestAction.HANDOFF, value),
                Button("Not a request", RequestAction.DISMISS, value),
            ],
        )


# Read once per session, i.e. per group commit: channel events never change who is on the team, who acts for an
# owner, or the service levels and calendars, so a batch reads each once.
MEMBERS, ACTING, LEVELS = "intake.members", "intake.acting", "intake.levels"


async def command_rule_in(
    session: AsyncSession, platform: Platform, workspace: str, channel_id: str, user_id: str
) -> tuple[bool, bool]:
    """`ChannelIntake.command_rule` in the caller's transaction (a command's guard: `Handlers.command`)."""
    found = await channel_domain.link_of(session, platform=platform, workspace=workspace, channel_id=channel_id)
    if found is None:
        return False, False
    return await _member(session, found[0].id, user_id) is None, True


async def _member(session: AsyncSession, workspace_id: int, user_id: str) -> Member | None:
    if not user_id:
        return None
    known: dict[tuple[int, str], Member | None] = session.info.setdefault(MEMBERS, {})
    if (workspace_id, user_id) not in known:
        known[workspace_id, user_id] = (
            await session.execute(
                select(Member).where(Member.workspace_id == workspace_id, Member.platform_user_id == user_id)
            )
        ).scalar_one_or_none()
    return known[workspace_id, user_id]


async def _acting(session: AsyncSession, ticket: Ticket, now: datetime) -> Member | None:
    known: dict[tuple[int | None, int], Member | None] = session.info.setdefault(ACTING, {})
    key = (ticket.owner_id, ticket.customer_id)
    if key not in known:
        known[key] = await acting_owner(session, owner_id=ticket.owner_id, customer_id=ticket.customer_id, now=now)
    return known[key]


def _levels(session: AsyncSession) -> ServiceLevels:
    if LEVELS not in session.info:
        session.info[LEVELS] = ServiceLevels(session)
    levels: ServiceLevels = session.info[LEVELS]
    return levels


async def _first_response_due(session: AsyncSession, handlers: Handlers, customer: Customer, ticket: Ticket) -> str:
    if ticket.status != TicketStatus.OPEN:
        return ""
    levels = _levels(session)
    calendar = await levels.ticket_calendar(ticket, customer)
    targets = await levels.get(ticket.workspace_id, customer.tier)
    for clock in ticket_clocks(
        ticket, targets, calendar=calendar, pauses=[], policy=handlers.policy, now=ticket.opened_at
    ):
        if clock.name == "first-response":
            return show_due(clock.due_at, calendar)
    return ""
