"""A nudge held for its recipient's working morning (or behind the daily cap) is planned ahead; by the time it
is due, who looks after the customer may have changed: the owner stepped out or went away with cover (the
keeper hears it, never the owner), or a custody ended (the owner hears it again, not the former keeper). Just
before a first-step nudge is claimed, its recipient is worked out again with the planner's own rules and the
delivery moves to the person who acts for the owner now."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import DeliveryStatus, Member, NudgeDelivery, NudgeEpisode
from db.upsert import insert_or_ignore

from .hours import next_working_moment
from .planner import recipients, stand_in_reason
from .rules import LADDERS, Evaluation

ROUTED = "owner"  # only the owner's first step follows custody; escalations and receivers keep their person


async def _taken(session: AsyncSession, delivery: NudgeDelivery, member_id: int) -> bool:
    found = await session.scalar(
        select(NudgeDelivery.id).where(
            NudgeDelivery.episode_id == delivery.episode_id,
            NudgeDelivery.step == delivery.step,
            NudgeDelivery.round == delivery.round,
            NudgeDelivery.recipient_id == member_id,
        )
    )
    return found is not None


async def reroute(
    session: AsyncSession, delivery: NudgeDelivery, episode: NudgeEpisode, evaluation: Evaluation, *, now: datetime
) -> bool:
    """Point a planned first-step delivery at whoever acts for the owner now. True when it is still due now
    for its (possibly new) recipient; False when it was moved to a later moment or given up for another row."""
    if delivery.status != DeliveryStatus.PLANNED or delivery.step != 0 or delivery.round != 0:
        return True
    if LADDERS[episode.kind][0] != ROUTED or evaluation.gone:
        return True
    people: list[tuple[Member, str]] = await recipients(session, ROUTED, evaluation, now=now)
    if not people or any(person.id == delivery.recipient_id for person, _ in people):
        return True
    why = await stand_in_reason(session, ROUTED, evaluation, now=now) if people[0][1] != ROUTED else None
    moved = False
    for person, role in people:
        if await _taken(session, delivery, person.id):
            continue
        due = now if delivery.urgent else next_working_moment(person, now)
        if not moved:
            delivery.recipient_id, delivery.audience, delivery.due_at, delivery.why = person.id, role, due, why
            delivery.error = None
            moved = True
            continue
        values = {c: getattr(delivery, c) for c in ("workspace_id", "episode_id", "kind", "step", "round", "urgent")}
        values |= {"recipient_id": person.id, "audience": role, "status": DeliveryStatus.PLANNED}
        values |= {"planned_at": now, "due_at": due, "attempts": 0, "why": why}
        await insert_or_ignore(session, NudgeDelivery, values, ["episode_id", "step", "recipient_id", "round"])
    if not moved:  # the people acting now already have their own delivery of this step
        delivery.status = DeliveryStatus.CANCELLED
        return False
    return delivery.due_at <= now
