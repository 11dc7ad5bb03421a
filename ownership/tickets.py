"""Tickets: open, note, pending, reopen, resolve, close; mood (tone and agents), CSAT; SLA timestamps; ideas.

Every public function is keyword-only, takes an AsyncSession and `now`, and writes its timeline event in the
caller's transaction. Service levels are computed from the ticket's timestamps: `opened_at`,
`first_response_at` (the first agent note), `last_activity_at`, `pending_since` / `pending_seconds` (the clock
pauses while the customer owes us an answer), `resolved_at` and `closed_at`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from db.models import (
    Customer,
    CustomerIdea,
    Member,
    Mood,
    Platform,
    Priority,
    Role,
    Team,
    Ticket,
    TicketEvent,
    TicketEventKind,
    TicketStatus,
)

from .errors import Conflict, InvalidInput, NotFound
from .tone import Tone, score_tone

MAX_SUBJECT = 300
MAX_NOTE = 4000
MAX_IDEA = 2000
ACTIVE = (TicketStatus.OPEN, TicketStatus.PENDING)
CSAT_RATINGS = ("good", "bad")
STATUS_EVENT = {
    TicketStatus.OPEN: TicketEventKind.REOPENED,
    TicketStatus.PENDING: TicketEventKind.PENDING,
    TicketStatus.RESOLVED: TicketEventKind.RESOLVED,
    TicketStatus.CLOSED: TicketEventKind.CLOSED,
}


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
    text = raw.strip().lstrip("#")
    if not text.isdigit() or len(text) > 12:
        raise InvalidInput(f'"{raw[:40]}" is not a ticket number. Use the number from `tickets`, e.g. `#12`.')
    return int(text)


def _clean(text: str | None, what: str, limit: int) -> str:
    cleaned = " ".join((text or "").split())
    if not cleaned:
        raise InvalidInput(f"The {what} can't be empty.")
    if len(cleaned) > limit:
        raise InvalidInput(f"That {what} is {len(cleaned)} characters long; keep it under {limit}.")
    return cleaned


def _event(
    ticket: Ticket, kind: TicketEventKind, *, actor: Member | None, platform: Platform, now: datetime, **values: object
) -> TicketEvent:
    return TicketEvent(
        workspace_id=ticket.workspace_id,
        ticket_id=ticket.id,
        kind=kind,
        actor_id=actor.id if actor else None,
        platform=platform,
        at=now,
        **values,
    )


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
    subject_text = _clean(subject, "ticket subject", MAX_SUBJECT)
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
        _event(
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
            _event(
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


def _transition(ticket: Ticket, to: TicketStatus, now: datetime) -> TicketStatus:
    """Move the status and its clocks; returns the status it left."""
    before = ticket.status
    if before == TicketStatus.PENDING and ticket.pending_since is not None:
        ticket.pending_seconds = (ticket.pending_seconds or 0) + max(
            0, int((now - ticket.pending_since).total_seconds())
        )
        ticket.pending_since = None
    if to == TicketStatus.PENDING:
        ticket.pending_since = now
    elif to == TicketStatus.RESOLVED:
        ticket.resolved_at = now
    elif to == TicketStatus.CLOSED:
        ticket.closed_at = now
        ticket.resolved_at = ticket.resolved_at or now
    elif to == TicketStatus.OPEN:
        ticket.resolved_at = None
        ticket.closed_at = None
    ticket.status = to
    ticket.last_activity_at = max(ticket.last_activity_at, now)
    return before


async def set_status(
    session: AsyncSession,
    *,
    ticket: Ticket,
    to: TicketStatus,
    actor: Member | None,
    platform: Platform,
    now: datetime,
    why: str | None = None,
) -> Ticket:
    """Apply a status the helpdesk reports, whatever it was before (the helpdesk is the source of truth)."""
    if ticket.status == to:
        return ticket
    before = _transition(ticket, to, now)
    session.add(
        _event(
            ticket,
            STATUS_EVENT[to],
            actor=actor,
            platform=platform,
            now=now,
            from_status=before.value,
            to_status=to.value,
            text=why,
        )
    )
    await session.flush()
    return ticket


CHAT_TRANSITIONS = {
    TicketStatus.PENDING: (TicketStatus.OPEN,),
    TicketStatus.OPEN: (TicketStatus.PENDING, TicketStatus.RESOLVED),
    TicketStatus.RESOLVED: (TicketStatus.OPEN, TicketStatus.PENDING),
}
REFUSALS = {
    (TicketStatus.PENDING, TicketStatus.PENDING): "#{id} is already pending (waiting on the customer).",
    (
        TicketStatus.PENDING,
        TicketStatus.RESOLVED,
    ): "#{id} is resolved; `ticket reopen {id}` first if the customer still needs something.",
    (TicketStatus.OPEN, TicketStatus.OPEN): "#{id} is already open.",
    (TicketStatus.RESOLVED, TicketStatus.RESOLVED): "#{id} is already resolved.",
}


async def change_status(
    session: AsyncSession, *, ticket: Ticket, to: TicketStatus, actor: Member, platform: Platform, now: datetime
) -> Ticket:
    """`ticket pending|reopen|resolve` from chat: only the moves that make sense; closed tickets stay closed."""
    if ticket.status == TicketStatus.CLOSED:
        raise Conflict(f"#{ticket.id} is closed at the helpdesk; open a new ticket if the customer needs more.")
    if ticket.status not in CHAT_TRANSITIONS.get(to, ()):
        raise Conflict(REFUSALS[(to, ticket.status)].format(id=ticket.id))
    return await set_status(session, ticket=ticket, to=to, actor=actor, platform=platform, now=now)


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
        _event(
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
    body = _clean(text, "note", MAX_NOTE)
    if ticket.status == TicketStatus.CLOSED:
        raise Conflict(f"#{ticket.id} is closed; open a new ticket for the customer instead.")
    ticket.last_activity_at = max(ticket.last_activity_at, now)
    if not from_customer:
        first = ticket.first_response_at is None
        if first:
            ticket.first_response_at = now
        session.add(_event(ticket, TicketEventKind.NOTE, actor=actor, platform=platform, now=now, text=body))
        await session.flush()
        return NoteResult(ticket, first, None, False, False)
    tone = score_tone(body)
    session.add(
        _event(
            ticket,
            TicketEventKind.CUSTOMER_MESSAGE,
            actor=actor,
            platform=platform,
            now=now,
            text=body,
            tone_score=tone.score,
        )
    )
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
    if tone.clearly_negative:
        unhappy = await _mark_mood(
            session, ticket, Mood.UNHAPPY, tone.reason(), actor=actor, platform=platform, now=now, score=tone.score
        )
    await session.flush()
    return NoteResult(ticket, False, tone, unhappy, reopened)


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
        _event(
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
        cleaned = _clean(subject, "ticket subject", MAX_SUBJECT)
        if cleaned != ticket.subject:
            ticket.subject = cleaned
            changes.append(f"subject: {cleaned}")
    if priority is not None and priority != ticket.priority:
        changes.append(f"priority {ticket.priority.value} → {priority.value}")
        ticket.priority = priority
    if changes:
        session.add(
            _event(ticket, TicketEventKind.UPDATED, actor=actor, platform=platform, now=now, text="; ".join(changes))
        )
        await session.flush()
    return changes


@dataclass(frozen=True)
class ServiceLevels:
    first_response: timedelta | None  # opened → first agent note
    pending: timedelta  # total time waiting on the customer, including a pause still running
    resolution: timedelta | None  # opened → resolved, minus the time pending
    since_activity: timedelta


def service_levels(ticket: Ticket, *, now: datetime) -> ServiceLevels:
    pending = ticket.pending_seconds or 0
    if ticket.status == TicketStatus.PENDING and ticket.pending_since is not None:
        pending += max(0, int((now - ticket.pending_since).total_seconds()))
    first = ticket.first_response_at - ticket.opened_at if ticket.first_response_at else None
    resolution = None
    if ticket.resolved_at is not None:
        resolution = ticket.resolved_at - ticket.opened_at - timedelta(seconds=ticket.pending_seconds or 0)
    return ServiceLevels(first, timedelta(seconds=pending), resolution, now - ticket.last_activity_at)


@dataclass(frozen=True)
class TicketRow:
    ticket: Ticket
    customer: str
    owner: str | None


async def list_tickets(
    session: AsyncSession,
    *,
    workspace_id: int,
    owner_id: int | None = None,
    customer_id: int | None = None,
    limit: int = 25,
) -> list[TicketRow]:
    """Someone's open and pending tickets, or a customer's tickets that are not closed; newest activity first."""
    owner = aliased(Member)
    query = (
        select(Ticket, Customer.name, owner.display_name)
        .join(Customer, Customer.id == Ticket.customer_id)
        .outerjoin(owner, owner.id == Ticket.owner_id)
        .where(Ticket.workspace_id == workspace_id)
    )
    if owner_id is not None:
        query = query.where(Ticket.owner_id == owner_id, Ticket.status.in_(ACTIVE))
    if customer_id is not None:
        query = query.where(Ticket.customer_id == customer_id, Ticket.status != TicketStatus.CLOSED)
    rows = await session.execute(query.order_by(Ticket.last_activity_at.desc(), Ticket.id.desc()).limit(limit))
    return [TicketRow(t, c, o) for t, c, o in rows.all()]


@dataclass(frozen=True)
class TimelineLine:
    at: datetime
    kind: TicketEventKind
    actor: str | None
    platform: Platform
    from_status: str | None
    to_status: str | None
    mood: Mood | None
    tone_score: float | None
    text: str | None


async def ticket_timeline(session: AsyncSession, *, ticket: Ticket, limit: int = 100) -> list[TimelineLine]:
    rows = await session.execute(
        select(TicketEvent, Member.display_name)
        .outerjoin(Member, Member.id == TicketEvent.actor_id)
        .where(TicketEvent.ticket_id == ticket.id)
        .order_by(TicketEvent.at.desc(), TicketEvent.id.desc())
        .limit(limit)
    )
    lines = [
        TimelineLine(e.at, e.kind, name, e.platform, e.from_status, e.to_status, e.mood, e.tone_score, e.text)
        for e, name in rows.all()
    ]
    return list(reversed(lines))


async def team_to_tell(session: AsyncSession, *, customer: Customer) -> list[Member]:
    """Who hears about an unowned customer's ticket: the customer's team lead, else the leads, else the admins."""
    if customer.team_id is not None:
        lead_id = await session.scalar(select(Team.lead_id).where(Team.id == customer.team_id))
        if lead_id is not None:
            lead = await session.get(Member, lead_id)
            if lead is not None:
                return [lead]
    for role in (Role.LEAD, Role.ADMIN):
        found = list(
            (
                await session.execute(
                    select(Member)
                    .where(Member.workspace_id == customer.workspace_id, Member.role == role)
                    .order_by(Member.id)
                )
            ).scalars()
        )
        if found:
            return found
    return []


async def record_idea(
    session: AsyncSession, *, actor: Member, customer: Customer, text: str, platform: Platform, now: datetime
) -> CustomerIdea:
    idea = CustomerIdea(
        workspace_id=customer.workspace_id,
        customer_id=customer.id,
        author_id=actor.id,
        text=_clean(text, "idea", MAX_IDEA),
        platform=platform,
        created_at=now,
    )
    session.add(idea)
    await session.flush()
    return idea


@dataclass(frozen=True)
class IdeaRow:
    idea: CustomerIdea
    customer: str
    author: str | None


async def list_ideas(
    session: AsyncSession,
    *,
    workspace_id: int,
    customer_id: int | None = None,
    since: datetime | None = None,
    limit: int = 50,
) -> list[IdeaRow]:
    """Customers' ideas, newest first: for one customer, and/or since a moment."""
    query = (
        select(CustomerIdea, Customer.name, Member.display_name)
        .join(Customer, Customer.id == CustomerIdea.customer_id)
        .outerjoin(Member, Member.id == CustomerIdea.author_id)
        .where(CustomerIdea.workspace_id == workspace_id)
    )
    if customer_id is not None:
        query = query.where(CustomerIdea.customer_id == customer_id)
    if since is not None:
        query = query.where(CustomerIdea.created_at >= since)
    rows = await session.execute(query.order_by(CustomerIdea.created_at.desc(), CustomerIdea.id.desc()).limit(limit))
    return [IdeaRow(i, c, a) for i, c, a in rows.all()]
