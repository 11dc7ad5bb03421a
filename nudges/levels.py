"""Service levels per tier: first response, update (no activity) and resolution targets, scaled by priority.

Defaults live in rows with workspace_id NULL (seeded by the migration); an admin's `sla` change writes the
workspace's own row, which wins over the default.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Member, Priority, ServiceLevel, Tier
from ownership.errors import InvalidInput
from ownership.people import require_admin

PRIORITY_SCALE = {Priority.URGENT: 0.25, Priority.HIGH: 0.5, Priority.NORMAL: 1.0, Priority.LOW: 2.0}

# What admins may change, by the words they type.
TARGETS = {
    "first-response": "first_response_minutes",
    "update": "update_minutes",
    "resolution": "resolution_minutes",
    "lead-after": "lead_after_minutes",
    "admins-after": "admins_after_minutes",
}
MAX_MINUTES = 60 * 24 * 90
# The same defaults the migration seeds; used when the rows are missing (a wiped table must not stop nudges).
DEFAULTS = {
    Tier.PREMIUM: (60, 240, 1440, 30, 60),
    Tier.STANDARD: (240, 1440, 4320, 120, 240),
    Tier.BASIC: (1440, 2880, 10080, 480, 960),
}


@dataclass(frozen=True)
class Targets:
    """One tier's targets, in minutes for a normal-priority ticket."""

    tier: Tier
    first_response: int
    update: int
    resolution: int
    lead_after: int
    admins_after: int
    custom: bool  # the workspace changed it (not the seeded default)

    def scaled(self, minutes: int, priority: Priority) -> timedelta:
        return timedelta(minutes=minutes * PRIORITY_SCALE[priority])


def _targets(row: ServiceLevel) -> Targets:
    return Targets(
        row.tier,
        row.first_response_minutes,
        row.update_minutes,
        row.resolution_minutes,
        row.lead_after_minutes,
        row.admins_after_minutes,
        row.workspace_id is not None,
    )


class ServiceLevels:
    """A small per-sweep cache: one query per workspace, not one per ticket."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._by_workspace: dict[int, dict[Tier, Targets]] = {}

    async def for_workspace(self, workspace_id: int) -> dict[Tier, Targets]:
        found = self._by_workspace.get(workspace_id)
        if found is None:
            found = await service_levels(self.session, workspace_id=workspace_id)
            self._by_workspace[workspace_id] = found
        return found

    async def get(self, workspace_id: int, tier: Tier) -> Targets:
        return (await self.for_workspace(workspace_id))[tier]


async def service_levels(session: AsyncSession, *, workspace_id: int) -> dict[Tier, Targets]:
    rows = (
        (
            await session.execute(
                select(ServiceLevel).where(
                    or_(ServiceLevel.workspace_id == workspace_id, ServiceLevel.workspace_id.is_(None))
                )
            )
        )
        .scalars()
        .all()
    )
    result: dict[Tier, Targets] = {}
    for row in sorted(rows, key=lambda r: r.workspace_id is not None):  # the workspace's own rows win
        result[row.tier] = _targets(row)
    for tier in Tier:
        if tier not in result:
            result[tier] = Targets(tier, *DEFAULTS[tier], custom=False)
    return result


async def set_service_level(
    session: AsyncSession, *, actor: Member, tier: Tier, target: str, minutes: int, now: datetime
) -> Targets:
    require_admin(actor, "change service levels")
    column = TARGETS.get(target.lower())
    if column is None:
        raise InvalidInput(f'"{target}" is not a target. Use one of: {", ".join(TARGETS)}.')
    own = (
        await session.execute(
            select(ServiceLevel).where(ServiceLevel.workspace_id == actor.workspace_id, ServiceLevel.tier == tier)
        )
    ).scalar_one_or_none()
    if own is None:
        current = (await service_levels(session, workspace_id=actor.workspace_id))[tier]
        own = ServiceLevel(
            workspace_id=actor.workspace_id,
            tier=tier,
            first_response_minutes=current.first_response,
            update_minutes=current.update,
            resolution_minutes=current.resolution,
            lead_after_minutes=current.lead_after,
            admins_after_minutes=current.admins_after,
        )
        session.add(own)
    setattr(own, column, minutes)
    own.updated_at = now
    await session.flush()
    return _targets(own)


def timedelta_words(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes % 1440 == 0 and minutes >= 1440:
        return f"{minutes // 1440}d"
    if minutes % 60 == 0 and minutes >= 60:
        return f"{minutes // 60}h"
    if minutes > 60:
        return f"{minutes // 60}h{minutes % 60:02d}m"
    return f"{minutes}m"
