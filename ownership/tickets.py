"""Tickets: open, note, pending, reopen, resolve, close; mood (tone and agents), CSAT; SLA timestamps.

Every public function is keyword-only, takes an AsyncSession and `now`, and writes its timeline event in the
caller's transaction. Service levels are computed from the ticket's timestamps: `opened_at`,
`first_response_at` (the first agent note), `last_activity_at`, `pending_since` / `pending_seconds` (the clock
pauses while the customer owes us an answer), `resolved_at` and `closed_at`.

Status moves and their clocks are in `ticket_status`, the timeline rows in `timeline`; what reads tickets back
(lists, service-level timings, who hears about an unowned customer's ticket) is in `ticket_views`; customers'
ideas are in `ideas`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import (
    Customer,
    Member,
    Mood,
    Platform,
    Priority,
    Ticket,
    TicketEvent,
    TicketEventKind,
    TicketStatus,
)

from .abuse import Abuse, classify_abuse
from .errors import Conflict, InvalidInput, NotFound
from .numbers import parse_id
from .ticket_status import set_status
from .timeline import timeline_event
from .tone import Tone, score_tone

MAX_SUBJECT = 300
MAX_NOTE = 4000
CSAT_RATINGS = ("good", "bad")


def parse_priority(raw: str) -> Priority:
    try:
        return Priority(raw.strip().lower())
    except ValueError:
        raise InvalidInput(f'"{raw[:40]}" is not a priority. Use urgent, high, normal or low.') from None


def parse_mood(raw: str) -> Mood:
    try:
        return Mood(raw.strip().lower())
    except ValueError:
        raise InvalidInput(f'"{raw[:40]}" is not a mood. Use unhappy, neutral or happy.') from None


def parse_ticket_id(raw: str) -> int:
    return parse_id(
        raw,
        invalid=f'"{raw[:40]}" is not a ticket number. Use the number from `tickets`, e.g. `#12`.',
        missing=f"There is no ticket #{raw.strip()[:20].lstrip('#')} here. `tickets` lists yours.",
    )


def clean_text(text: str | None, what: str, limit: int) -> str:
    """Whitespace collapsed; refuses empty text and text over `limit` characters, naming `what` it is."""
    cleaned = " ".join((text or "").split())
    if not cleaned:
        raise InvalidInput(f"The {what} can't be empty.")
    if len(cleaned) > limit:
        raise InvalidInput(f"That {what} is {len(cleaned)} characters long; keep it under {limit}.")
    return cleaned


@dataclass(frozen=True)
class OpenedTicket:
    ticket: Ticket
    customer: Customer
    flagged: bool  # nobody owns the customer: the team has to pick the ticket up


async def open_ticket(
    session: AsyncSession,
    *,
    customer: Customer,
    subject: str,
    priority: Priority = Priority.NORMAL,
    actor: Member | None,
    platform: Platform,
    now: datetime,
    source: str = "chat",
    external_ref: str | None = None,
) -> OpenedTicket:
    """A new ticket belongs to the customer's owner; an unowned customer's ticket is flagged to the team."""
    subject_text = clean_text(subject, "ticket subject", MAX_SUBJECT)
    ticket = Ticket(
        workspace_id=customer.workspace_id,
        customer_id=customer.id,
        source=source,
        external_ref=external_ref,
        subject=subject_text,
        status=TicketStatus.OPEN,
        priority=priority,
        owner_id=customer.owner_id,
        opened_at=now,
        last_activity_at=now,
        pending_seconds=0,
        mood=Mood.NEUTRAL,
        reassign_count=0,
    )
    session.add(ticket)
    await session.flush()
    session.add(
        timeline_event(
            ticket,
            TicketEventKind.OPENED,
            actor=actor,
            platform=platform,
            now=now,
            to_status=TicketStatus.OPEN.value,
            text=subject_text,
        )
    )
    flagged = customer.owner_id is None
    if flagged:
        session.add(
            timeline_event(
                ticket,
                TicketEventKind.FLAGGED_UNOWNED,
                actor=actor,
                platform=platform,
                now=now,
                text=f"nobody owns {customer.name}: flagged to the team",
            )
        )
    await session.flush()
    return OpenedTicket(ticket, customer, flagged)


async def get_ticket(session: AsyncSession, *, workspace_id: int, ticket_id: int, for_update: bool = False) -> Ticket:
    """A ticket of this workspace; another workspace's ticket is "not found", never shown or changed."""
    query = select(Ticket).where(Ticket.id == ticket_id, Ticket.workspace_id == workspace_id)
    if for_update:
        query = query.with_for_update()
    ticket = (await session.execute(query)).scalar_one_or_none()
    if ticket is None:
        raise NotFound(f"There is no ticket #{ticket_id} here. `tickets` lists yours.")
    return ticket


async def _mark_mood(
    session: AsyncSession,
    ticket: Ticket,
    mood: Mood,
    reason: str,
    *,
    actor: Member | None,
    platform: Platform,
    now: datetime,
    score: float | None = None,
) -> bool:
    """Set the mood and record why; returns True when the ticket just became unhappy."""
    became_unhappy = mood == Mood.UNHAPPY and ticket.mood != Mood.UNHAPPY
    ticket.mood = mood
    ticket.mood_reason = reason
    session.add(
        timeline_event(
            ticket,
            TicketEventKind.MOOD,
            actor=actor,
            platform=platform,
            now=now,
            mood=mood,
            tone_score=score,
            text=reason,
        )
    )
    await session.flush()
    return became_unhappy


@dataclass(frozen=True)
class NoteResult:
    ticket: Ticket
    first_response: bool  # this note was the first agent answer
    tone: Tone | None  # set for customer-written text
    became_unhappy: bool
    reopened: bool  # the customer wrote back on a pending or resolved ticket
    abuse: Abuse | None = None  # the customer's message was abusive (ownership.abuse): the ticket is marked
    event: TicketEvent | None = None  # the note's timeline row


async def add_note(
    session: AsyncSession,
    *,
    ticket: Ticket,
    text: str,
    from_customer: bool,
    actor: Member | None,
    platform: Platform,
    now: datetime,
    reopen: bool = True,
) -> NoteResult:
    """An agent's note (the first one sets the first response) or the customer's message (tone is scored;
    clearly negative marks the ticket unhappy; a pending or resolved ticket opens again when `reopen`)."""
    body = clean_text(text, "note", MAX_NOTE)
    if ticket.status == TicketStatus.CLOSED:
        raise Conflict(f"#{ticket.id} is closed; open a new ticket for the customer instead.")
    ticket.last_activity_at = max(ticket.last_activity_at, now)
    if not from_customer:
        first = ticket.first_response_at is None
        if first:
            ticket.first_response_at = now
        note = timeline_event(ticket, TicketEventKind.NOTE, actor=actor, platform=platform, now=now, text=body)
        session.add(note)
        await session.flush()
        return NoteResult(ticket, first, None, False, False, event=note)
    tone = score_tone(body)
    said = timeline_event(
        ticket,
        TicketEventKind.CUSTOMER_MESSAGE,
        actor=actor,
        platform=platform,
        now=now,
        text=body,
        tone_score=tone.score,
    )
    session.add(said)
    reopened = reopen and ticket.status in (TicketStatus.PENDING, TicketStatus.RESOLVED)
    if reopened:
        await set_status(
            session,
            ticket=ticket,
            to=TicketStatus.OPEN,
            actor=actor,
            platform=platform,
            now=now,
            why="the customer wrote back",
        )
    unhappy = False
    abuse = classify_abuse(body)
    if abuse is not None:
        session.add(
            timeline_event(
                ticket,
                TicketEventKind.ABUSE,
                actor=actor,
                platform=platform,
                now=now,
                text=abuse.reason(),
                tone_score=tone.score,  # the same message's: exposure counts it once, as abusive
            )
        )
    if tone.clearly_negative or abuse is not None:
        why = abuse.reason() if abuse is not None else tone.reason()
        unhappy = await _mark_mood(
            session, ticket, Mood.UNHAPPY, why, actor=actor, platform=platform, now=now, score=tone.score
        )
    await session.flush()
    return NoteResult(ticket, False, tone, unhappy, reopened, abuse, event=said)


async def set_mood(
    session: AsyncSession, *, ticket: Ticket, mood: Mood, actor: Member, platform: Platform, now: datetime
) -> Ticket:
    """An agent's judgement overrides the tone model (until the next clearly negative message or bad rating)."""
    await _mark_mood(
        session, ticket, mood, f"set to {mood.value} by {actor.display_name}", actor=actor, platform=platform, now=now
    )
    return ticket


@dataclass(frozen=True)
class CsatResult:
    ticket: Ticket
    rating: str
    became_unhappy: bool


async def record_csat(
    session: AsyncSession,
    *,
    ticket: Ticket,
    rating: str,
    comment: str | None,
    actor: Member | None,
    platform: Platform,
    now: datetime,
) -> CsatResult:
    """The customer's satisfaction rating. Bad marks the ticket unhappy even when it is resolved or closed."""
    value = rating.strip().lower()
    if value not in CSAT_RATINGS:
        raise InvalidInput(f'"{rating[:40]}" is not a rating. Use good or bad.')
    remark = " ".join((comment or "").split())[:MAX_NOTE] or None
    ticket.csat = value
    session.add(
        timeline_event(
            ticket,
            TicketEventKind.CSAT,
            actor=actor,
            platform=platform,
            now=now,
            text=f"{value}" + (f": {remark}" if remark else ""),
        )
    )
    if value == "bad":
        reason = "bad satisfaction rating" + (f": {remark}" if remark else "")
        unhappy = await _mark_mood(session, ticket, Mood.UNHAPPY, reason, actor=actor, platform=platform, now=now)
    else:
        unhappy = False
        await _mark_mood(
            session,
            ticket,
            Mood.HAPPY,
            "good satisfaction rating" + (f": {remark}" if remark else ""),
            actor=actor,
            platform=platform,
            now=now,
        )
    await session.flush()
    return CsatResult(ticket, value, unhappy)


async def update_details(
    session: AsyncSession,
    *,
    ticket: Ticket,
    subject: str | None,
    priority: Priority | None,
    actor: Member | None,
    platform: Platform,
    now: datetime,
) -> list[str]:
    """Subject or priority changed at the helpdesk; returns what changed."""
    changes: list[str] = []
    if subject:
        cleaned = clean_text(subject, "ticket subject", MAX_SUBJECT)
        if cleaned != ticket.subject:
            ticket.subject = cleaned
            changes.append(f"subject: {cleaned}")
    if priority is not None and priority != ticket.priority:
        changes.append(f"priority {ticket.priority.value} → {priority.value}")
        ticket.priority = priority
    if changes:
        session.add(
            timeline_event(
                ticket, TicketEventKind.UPDATED, actor=actor, platform=platform, now=now, text="; ".join(changes)
            )
        )
        await session.flush()
    return changes
