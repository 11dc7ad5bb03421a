"""What an operator reads at scrape time: how many nudges are due and how many the sender is behind on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import DeliveryStatus, NudgeDelivery

WAITING = (DeliveryStatus.PLANNED, DeliveryStatus.SENDING)


@dataclass(frozen=True)
class NudgeBacklog:
    due: int  # their time has come, not sent yet
    overdue: int  # of those, due before `now - behind`


async def nudge_backlog(session: AsyncSession, *, now: datetime, behind: timedelta) -> NudgeBacklog:
    """Counted with the (status, due_at) index the sweep uses; never a scan of sent nudges."""
    due = await session.scalar(
        select(func.count())
        .select_from(NudgeDelivery)
        .where(NudgeDelivery.status.in_(WAITING), NudgeDelivery.due_at <= now)
    )
    overdue = await session.scalar(
        select(func.count())
        .select_from(NudgeDelivery)
        .where(NudgeDelivery.status.in_(WAITING), NudgeDelivery.due_at <= now - behind)
    )
    return NudgeBacklog(int(due or 0), int(overdue or 0))
