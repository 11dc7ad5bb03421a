"""Why a nudge came to this person: the sentence an escalation or a stand-in carries.

"Sam is off until 09:00 Berlin", "Sam reached today's nudge limit", "Sam could not be reached on Slack": the
next step of the ladder is due at its own time whatever happened to the previous one, and says why it came.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import DeliveryStatus, Member, NudgeDelivery, NudgeEpisode

from .availability import back_on, is_away
from .hours import is_working, next_working_moment, zone

HELD_BY_CAP = "held: the daily nudge limit was reached"


def place(member: Member) -> str:
    """`Berlin` for Europe/Berlin, `UTC` for UTC."""
    return zone(member).key.split("/")[-1].replace("_", " ")


def off_until(member: Member, moment: datetime) -> str:
    back = next_working_moment(member, moment).astimezone(zone(member))
    day = "" if back.date() == moment.astimezone(zone(member)).date() else f"{back:%a} "
    return f"{member.display_name} is off until {day}{back:%H:%M} {place(member)}"


def away_words(member: Member) -> str:
    until = back_on(member)
    return f"{member.display_name} is away" + (f" until {until}" if until else "")


async def _previous(session: AsyncSession, episode: NudgeEpisode, step: int) -> list[NudgeDelivery]:
    rows = await session.execute(
        select(NudgeDelivery)
        .where(NudgeDelivery.episode_id == episode.id, NudgeDelivery.step == step, NudgeDelivery.round == 0)
        .order_by(NudgeDelivery.id)
    )
    return list(rows.scalars())


async def _one_reason(session: AsyncSession, delivery: NudgeDelivery, now: datetime) -> str:
    person = await session.get(Member, delivery.recipient_id)
    name = person.display_name if person else "the previous person"
    if delivery.status in (DeliveryStatus.SENT, DeliveryStatus.BUNDLED):
        return f"{name} got it and nobody has acted on it"
    if delivery.status == DeliveryStatus.FAILED:
        return f"{name} could not be reached on their chat platform"
    if delivery.error == HELD_BY_CAP:
        return f"{name} reached today's nudge limit"
    if delivery.error:
        return f"{name}'s chat platform has not taken it yet"
    if person is not None and is_away(person, now):
        return away_words(person)
    if person is not None and not is_working(person, now):
        return off_until(person, now)
    return f"{name} has not acted on it yet"


async def why_it_came(
    session: AsyncSession,
    episode: NudgeEpisode,
    step: int,
    *,
    now: datetime,
) -> str | None:
    """The reason shown on the nudge: for a stand-in, who is away; for a later step, what became of the last."""
    if step == 0:
        return None  # a stand-in's nudge says so itself (see handlers.nudge_messages)
    earlier = await _previous(session, episode, step - 1)
    if not earlier:
        return "Nobody could be told at the previous step."
    reasons = [await _one_reason(session, d, now) for d in earlier]
    unique = list(dict.fromkeys(reasons))
    return "; ".join(unique[:3]) + ", so it came to you at its own time."
