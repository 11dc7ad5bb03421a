"""Customer channels: a channel linked to a customer turns the customer's messages there into tickets (requests).

A top-level message from the customer opens a ticket (owned by the customer's owner; unowned: flagged to the
team) with the message as its first customer note, tone scored. Replies in its thread are the ticket's timeline:
an agent's reply is a note (the first one stops the first-response clock), a customer's reply is a customer note
(re-scored; it reopens a resolved ticket within `REOPEN_WINDOW`, after that it opens a new request in the same
thread). The team's reaction resolves; edits change the note's text; deletions stay in the timeline, marked.

Who is the customer is decided by the face (it knows the platform); here every function is keyword-only, takes
the session and `now`, writes in the caller's transaction and raises typed errors. Channel messages are customer
text: nothing here logs them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import (
    ChannelMessage,
    Customer,
    CustomerChannel,
    Member,
    Platform,
    Ticket,
    TicketEvent,
    TicketEventKind,
    TicketStatus,
)

from .errors import Conflict, NotFound
from .ticket_status import set_status
from .tickets import MAX_NOTE, NoteResult, OpenedTicket, add_note, open_ticket
from .timeline import timeline_event
from .tone import score_tone

REOPEN_WINDOW = timedelta(days=7)
SUBJECT_WORDS = 12
SUBJECT_CHARS = 80
SOURCE = "channel"


# -- messages -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChannelPost:
    """A message in a linked channel, as the face read it."""

    channel_id: str
    message_id: str
    thread_id: str | None  # the thread's first message; None (or itself) for a top-level message
    author: str  # platform user id
    text: str

    @property
    def top_level(self) -> bool:
        return self.thread_id is None or self.thread_id == self.message_id


@dataclass(frozen=True)
class Ingested:
    ticket: Ticket
    opened: OpenedTicket | None = None  # a new request
    note: NoteResult | None = None
    reopened_as_new: bool = False  # a reply long after resolution: a new request in the same thread


def subject_of(text: str) -> str:
    """The first words of the customer's message, as the request's subject."""
    words = " ".join(text.split()).split(" ")
    subject = " ".join(words[:SUBJECT_WORDS])
    if len(subject) > SUBJECT_CHARS:
        subject = subject[: SUBJECT_CHARS - 1].rstrip() + "…"
    elif len(words) > SUBJECT_WORDS:
        subject += "…"
    return subject or "(no text)"


def clipped(text: str) -> str:
    text = " ".join(text.split()) or "(no text)"
    return text if len(text) <= MAX_NOTE else text[: MAX_NOTE - 1] + "…"


async def _message(session: AsyncSession, workspace_id: int, channel_id: str, message_id: str) -> ChannelMessage | None:
    return (
        await session.execute(
            select(ChannelMessage).where(
                ChannelMessage.workspace_id == workspace_id,
                ChannelMessage.channel_id == channel_id,
                ChannelMessage.message_id == message_id,
            )
        )
    ).scalar_one_or_none()


async def _open_request(
    session: AsyncSession,
    *,
    link: CustomerChannel,
    post: ChannelPost,
    thread_id: str,
    platform: Platform,
    now: datetime,
) -> Ingested:
    customer = await session.get(Customer, link.customer_id)
    assert customer is not None
    text = clipped(post.text)
    opened = await open_ticket(
        session,
        customer=customer,
        subject=subject_of(text),
        actor=None,
        platform=platform,
        now=now,
        source=SOURCE,
        external_ref=f"{post.channel_id}:{post.message_id}"[:128],
    )
    note = await add_note(
        session, ticket=opened.ticket, text=text, from_customer=True, actor=None, platform=platform, now=now
    )
    return Ingested(opened.ticket, opened=opened, note=note)


async def ingest_post(
    session: AsyncSession,
    *,
    link: CustomerChannel,
    post: ChannelPost,
    agent: Member | None,
    platform: Platform,
    now: datetime,
) -> Ingested | None:
    """Apply one message of a linked channel. `agent`: the team member who wrote it (None: the customer).
    Returns None when it belongs to nothing (an agent's own top-level post, a reply in a thread we never read,
    a message read before)."""
    if await _message(session, link.workspace_id, post.channel_id, post.message_id) is not None:
        return None
    thread_id = post.message_id if post.top_level else str(post.thread_id)
    ingested: Ingested | None
    if post.top_level:
        if agent is not None:
            return None  # the team talking among themselves or announcing: not a request
        ingested = await _open_request(session, link=link, post=post, thread_id=thread_id, platform=platform, now=now)
    else:
        root = await _message(session, link.workspace_id, post.channel_id, thread_id)
        if root is None or root.dismissed:
            return None
        ticket = await session.get(Ticket, root.ticket_id, with_for_update=True)
        assert ticket is not None
        if agent is None and ticket.status in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
            done_at = ticket.resolved_at or ticket.closed_at or now
            if ticket.status == TicketStatus.CLOSED or now - done_at > REOPEN_WINDOW:
                ingested = await _open_request(
                    session, link=link, post=post, thread_id=thread_id, platform=platform, now=now
                )
                root.ticket_id = ingested.ticket.id  # later replies in the thread belong to the new request
                ingested = Ingested(ingested.ticket, ingested.opened, ingested.note, reopened_as_new=True)
                return await _record(session, link, post, thread_id, agent, ingested, now)
        note = await add_note(
            session,
            ticket=ticket,
            text=clipped(post.text),
            from_customer=agent is None,
            actor=agent,
            platform=platform,
            now=now,
        )
        ingested = Ingested(ticket, note=note)
    return await _record(session, link, post, thread_id, agent, ingested, now)


async def _record(
    session: AsyncSession,
    link: CustomerChannel,
    post: ChannelPost,
    thread_id: str,
    agent: Member | None,
    ingested: Ingested,
    now: datetime,
) -> Ingested:
    session.add(
        ChannelMessage(
            workspace_id=link.workspace_id,
            channel_id=post.channel_id,
            message_id=post.message_id,
            thread_id=thread_id,
            ticket_id=ingested.ticket.id,
            event_id=ingested.note.event.id if ingested.note is not None and ingested.note.event is not None else None,
            author=post.author[:128],
            from_customer=agent is None,
            dismissed=False,
            at=now,
        )
    )
    await session.flush()
    return ingested


async def request_of(session: AsyncSession, *, workspace_id: int, channel_id: str, message_id: str) -> Ticket | None:
    """The ticket a message of a linked channel belongs to (a request or a reply in its thread)."""
    found = await _message(session, workspace_id, channel_id, message_id)
    return await session.get(Ticket, found.ticket_id, with_for_update=True) if found is not None else None


async def resolve_by_reaction(
    session: AsyncSession,
    *,
    link: CustomerChannel,
    channel_id: str,
    message_id: str,
    emoji: str,
    agent: Member,
    platform: Platform,
    now: datetime,
) -> Ticket | None:
    """The team's emoji on a request (or a reply in its thread) resolves it; any other reaction changes nothing."""
    if emoji.split("::", 1)[0] != link.resolve_emoji:  # `white_check_mark::skin-tone-2` is the same emoji
        return None
    ticket = await request_of(session, workspace_id=link.workspace_id, channel_id=channel_id, message_id=message_id)
    if ticket is None or ticket.status in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
        return None
    await set_status(
        session,
        ticket=ticket,
        to=TicketStatus.RESOLVED,
        actor=agent,
        platform=platform,
        now=now,
        why=f"resolved with :{link.resolve_emoji}: in the channel",
    )
    return ticket


async def edit_post(
    session: AsyncSession, *, workspace_id: int, channel_id: str, message_id: str, text: str, now: datetime
) -> Ticket | None:
    """An edited message changes its note's text (a customer's is scored again); the timeline says it changed."""
    found = await _message(session, workspace_id, channel_id, message_id)
    if found is None or found.event_id is None:
        return None
    event = await session.get(TicketEvent, found.event_id)
    ticket = await session.get(Ticket, found.ticket_id)
    if event is None or ticket is None:
        return None
    event.text = clipped(text)
    if found.from_customer:
        event.tone_score = score_tone(event.text).score
    session.add(
        timeline_event(
            ticket, TicketEventKind.UPDATED, actor=None, platform=event.platform, now=now, text="a message was edited"
        )
    )
    await session.flush()
    return ticket


async def delete_post(
    session: AsyncSession, *, workspace_id: int, channel_id: str, message_id: str, now: datetime
) -> Ticket | None:
    """A deleted message stays in the timeline, marked deleted (the ticket keeps what was said)."""
    found = await _message(session, workspace_id, channel_id, message_id)
    if found is None or found.deleted_at is not None:
        return None
    ticket = await session.get(Ticket, found.ticket_id)
    if ticket is None:
        return None
    found.deleted_at = now
    platform = Platform.SLACK
    if found.event_id is not None:
        event = await session.get(TicketEvent, found.event_id)
        platform = event.platform if event is not None else platform
    session.add(
        timeline_event(
            ticket,
            TicketEventKind.UPDATED,
            actor=None,
            platform=platform,
            now=now,
            text="a message was deleted in the channel (kept in this timeline)",
        )
    )
    await session.flush()
    return ticket


async def dismiss_request(
    session: AsyncSession, *, ticket: Ticket, actor: Member, platform: Platform, now: datetime
) -> None:
    """ "Not a request": the ticket closes and drops out of the request numbers; its thread is no longer read."""
    root = (
        await session.execute(
            select(ChannelMessage).where(
                ChannelMessage.ticket_id == ticket.id, ChannelMessage.message_id == ChannelMessage.thread_id
            )
        )
    ).scalar_one_or_none()
    if root is None:
        raise NotFound(f"#{ticket.id} did not come from a customer channel.")
    if root.dismissed:
        raise Conflict(f"#{ticket.id} is already marked as not a request.")
    root.dismissed = True
    await set_status(
        session,
        ticket=ticket,
        to=TicketStatus.CLOSED,
        actor=actor,
        platform=platform,
        now=now,
        why=f"not a request (said {actor.display_name})",
    )
