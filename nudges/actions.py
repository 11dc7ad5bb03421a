"""What people do with a nudge (Done, Snooze, "not happy") and its history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from db.models import (
    Customer,
    DeliveryStatus,
    Member,
    Mood,
    NudgeDelivery,
    NudgeEpisode,
    NudgeKind,
    SubjectKind,
    Ticket,
    TicketStatus,
)
from db.upsert import insert_or_ignore
from ownership.errors import Conflict, InvalidInput, NotFound, NotPermitted
from ownership.people import is_lead

from .hours import next_work_start, next_working_moment
from .levels import ServiceLevels
from .planner import next_step_time, recheck
from .rules import LADDERS, Evaluation
from .settings import NudgeSettings

MAX_SNOOZE = timedelta(days=7)  # a snooze is any duration up to this, or "until my next morning"
MAX_NOTE = 2000


@dataclass(frozen=True)
class NudgeView:
    delivery: NudgeDelivery
    episode: NudgeEpisode
    ticket: Ticket | None
    customer: Customer | None


async def get_nudge(session: AsyncSession, *, workspace_id: int, delivery_id: int) -> NudgeView:
    delivery = await session.get(NudgeDelivery, delivery_id, populate_existing=True)
    if delivery is None or delivery.workspace_id != workspace_id:
        raise NotFound("That nudge no longer exists.")
    episode = await session.get(NudgeEpisode, delivery.episode_id, populate_existing=True)
    assert episode is not None
    ticket = await session.get(Ticket, episode.ticket_id) if episode.ticket_id else None
    customer = await session.get(Customer, episode.customer_id) if episode.customer_id else None
    return NudgeView(delivery, episode, ticket, customer)


def _may_act(actor: Member, view: NudgeView) -> None:
    owner_ids = {view.ticket.owner_id if view.ticket else None, view.customer.owner_id if view.customer else None}
    if actor.id == view.delivery.recipient_id or actor.id in owner_ids or is_lead(actor):
        return
    raise NotPermitted("Only the person this nudge was for, the owner or a lead can answer it.")


async def _done_by_name(session: AsyncSession, episode: NudgeEpisode) -> str:
    if episode.done_by_id is None:
        return "someone"
    return (await session.scalar(select(Member.display_name).where(Member.id == episode.done_by_id))) or "someone"


async def mark_done(
    session: AsyncSession, *, actor: Member, workspace_id: int, delivery_id: int, now: datetime, note: str | None = None
) -> NudgeView:
    """Done: the follow-up is recorded, and nobody further up the ladder hears about this episode."""
    view = await get_nudge(session, workspace_id=workspace_id, delivery_id=delivery_id)
    _may_act(actor, view)
    note_text = " ".join((note or "").split())
    if len(note_text) > MAX_NOTE:
        raise InvalidInput(f"Keep the note under {MAX_NOTE} characters.")
    result = await session.execute(
        update(NudgeEpisode)
        .where(NudgeEpisode.id == view.episode.id, NudgeEpisode.done_at.is_(None))
        .values(done_at=now, done_by_id=actor.id, done_note=note_text or None)
        .execution_options(synchronize_session=False)
    )
    await session.refresh(view.episode)
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(
            f"Already done by {await _done_by_name(session, view.episode)} "
            f"at {view.episode.done_at:%Y-%m-%d %H:%M} UTC."
        )
    await session.execute(
        update(NudgeDelivery)
        .where(NudgeDelivery.episode_id == view.episode.id, NudgeDelivery.status == DeliveryStatus.PLANNED)
        .values(status=DeliveryStatus.CANCELLED, error="done")
        .execution_options(synchronize_session=False)
    )
    return view


@dataclass(frozen=True)
class Snoozed:
    view: NudgeView
    until: datetime
    escalates_at: datetime | None  # when the next person up the ladder hears, snooze or not
    limited: bool  # the snooze limit kept the escalation earlier than the snooze


async def snooze(
    session: AsyncSession,
    *,
    actor: Member,
    workspace_id: int,
    delivery_id: int,
    delay: timedelta | None,
    now: datetime,
    policy: NudgeSettings,
) -> Snoozed:
    """Remind me later (after `delay`, up to MAX_SNOOZE; None: at the start of the actor's next working day): a
    new reminder for the actor, and the next ladder step waits, within the limit."""
    if delay is not None and not timedelta(minutes=1) <= delay <= MAX_SNOOZE:
        raise InvalidInput(f"Snooze for between 1 minute and {MAX_SNOOZE.days} days, or until `morning`.")
    view = await get_nudge(session, workspace_id=workspace_id, delivery_id=delivery_id)
    _may_act(actor, view)
    episode = view.episode
    if episode.done_at is not None:
        raise Conflict(f"This is already done (by {await _done_by_name(session, episode)}); nothing to snooze.")
    until = now + delay if delay is not None else next_work_start(actor, now)
    episode.snoozed_until = max(until, episode.snoozed_until) if episode.snoozed_until else until
    episode.snoozes += 1
    await insert_or_ignore(
        session,
        NudgeDelivery,
        {
            "workspace_id": episode.workspace_id,
            "episode_id": episode.id,
            "kind": episode.kind,
            "step": view.delivery.step,
            "round": episode.snoozes,
            "recipient_id": actor.id,
            "audience": view.delivery.audience,
            "urgent": view.delivery.urgent,
            "status": DeliveryStatus.PLANNED,
            "planned_at": now,
            "due_at": until if view.delivery.urgent else next_working_moment(actor, until),
            "attempts": 0,
        },
        ["episode_id", "step", "recipient_id", "round"],
    )
    # earlier reminders of this person for this episode that have not gone out yet are replaced by this one
    await session.execute(
        update(NudgeDelivery)
        .where(
            NudgeDelivery.episode_id == episode.id,
            NudgeDelivery.recipient_id == actor.id,
            NudgeDelivery.round > 0,
            NudgeDelivery.round < episode.snoozes,
            NudgeDelivery.status == DeliveryStatus.PLANNED,
        )
        .values(status=DeliveryStatus.CANCELLED, error="snoozed again")
        .execution_options(synchronize_session=False)
    )
    await session.flush()
    escalates_at, limited = await _next_escalation(session, episode, view, policy)
    await recheck(session, episode.subject_kind, episode.subject_id)
    return Snoozed(view, until, escalates_at, limited)


async def _next_escalation(
    session: AsyncSession, episode: NudgeEpisode, view: NudgeView, policy: NudgeSettings
) -> tuple[datetime | None, bool]:
    if view.customer is None:
        return None, False
    evaluation = Evaluation(episode.workspace_id, tier=view.customer.tier, ticket=view.ticket, customer=view.customer)
    nxt = await next_step_time(session, episode, policy=policy, levels=ServiceLevels(session), evaluation=evaluation)
    if nxt is None or nxt[0] == 0:
        return None, False
    at = nxt[1]
    return at, episode.snoozed_until is not None and at < episode.snoozed_until


async def not_happy(
    session: AsyncSession, *, actor: Member, workspace_id: int, delivery_id: int, reason: str | None, now: datetime
) -> NudgeView:
    """A check-in answered "not happy": the ticket's mood turns unhappy, which starts the unhappy loop again."""
    text = " ".join((reason or "").split())
    if len(text) < 5:
        raise InvalidInput("Say in a few words what is wrong, so the follow-up knows where to start.")
    if len(text) > MAX_NOTE:
        raise InvalidInput(f"Keep it under {MAX_NOTE} characters.")
    view = await get_nudge(session, workspace_id=workspace_id, delivery_id=delivery_id)
    if view.episode.kind != NudgeKind.CHECK_IN or view.ticket is None:
        raise InvalidInput("Only a check-in can be answered with “not happy”.")
    await mark_done(
        session, actor=actor, workspace_id=workspace_id, delivery_id=delivery_id, now=now, note=f"not happy: {text}"
    )
    ticket = await session.get(Ticket, view.ticket.id, populate_existing=True)
    assert ticket is not None
    ticket.mood = Mood.UNHAPPY
    ticket.mood_reason = f"check-in {now:%Y-%m-%d %H:%M}: {text}"
    await session.flush()  # the ticket's ORM hook puts it back on the planner's schedule
    return view


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    kind: NudgeKind
    what: str


async def nudge_history(
    session: AsyncSession,
    *,
    workspace_id: int,
    ticket: Ticket | None = None,
    customer: Customer | None = None,
    limit: int = 60,
) -> list[HistoryEntry]:
    """Every episode and ladder step for a ticket (or a customer and its tickets), oldest first."""
    query = select(NudgeEpisode).where(NudgeEpisode.workspace_id == workspace_id)
    if ticket is not None:
        query = query.where(NudgeEpisode.ticket_id == ticket.id)
    elif customer is not None:
        query = query.where(
            or_(
                NudgeEpisode.customer_id == customer.id,
                (NudgeEpisode.subject_kind == SubjectKind.CUSTOMER) & (NudgeEpisode.subject_id == customer.id),
            )
        )
    episodes = list((await session.execute(query.order_by(NudgeEpisode.started_at).limit(limit))).scalars())
    if not episodes:
        return []
    who = aliased(Member)
    rows = await session.execute(
        select(NudgeDelivery, who.display_name)
        .join(who, who.id == NudgeDelivery.recipient_id)
        .where(NudgeDelivery.episode_id.in_([e.id for e in episodes]))
    )
    entries: list[HistoryEntry] = []
    by_id = {e.id: e for e in episodes}
    for episode in episodes:
        subject = (
            f"ticket #{episode.ticket_id}"
            if episode.ticket_id and episode.subject_kind == SubjectKind.TICKET
            else episode.subject_kind.value
        )
        entries.append(
            HistoryEntry(episode.started_at, episode.kind, f"{episode.kind.value} ({subject}): {episode.detail}")
        )
        if episode.done_at is not None:
            who_name = await _done_by_name(session, episode)
            note = f": {episode.done_note}" if episode.done_note else ""
            entries.append(
                HistoryEntry(episode.done_at, episode.kind, f"{episode.kind.value} done by {who_name}{note}")
            )
    for delivery, name in rows.all():
        episode = by_id[delivery.episode_id]
        label = LADDERS.get(episode.kind, ("?",))
        step_name = f"step {delivery.step + 1}/{len(label)}"
        if delivery.round > 0:
            step_name += f", reminder after snooze {delivery.round}"
        if delivery.kind == NudgeKind.DELIVERY_FAILED:
            step_name = "delivery failed, told instead"
        moment = delivery.sent_at or delivery.due_at
        state = {
            DeliveryStatus.SENT: "sent",
            DeliveryStatus.BUNDLED: "sent in a bundle",
            DeliveryStatus.PLANNED: "waiting until",
            DeliveryStatus.SENDING: "being sent",
            DeliveryStatus.CANCELLED: "cancelled",
            DeliveryStatus.FAILED: f"failed ({delivery.error})",
        }[delivery.status]
        entries.append(
            HistoryEntry(
                moment, episode.kind, f"{episode.kind.value} → {name} ({delivery.audience}, {step_name}): {state}"
            )
        )
    entries.sort(key=lambda e: e.at)
    return entries


async def open_ticket_ids(session: AsyncSession, *, customer: Customer) -> list[int]:
    return list(
        (
            await session.execute(
                select(Ticket.id).where(
                    Ticket.customer_id == customer.id, Ticket.status.in_((TicketStatus.OPEN, TicketStatus.PENDING))
                )
            )
        ).scalars()
    )
