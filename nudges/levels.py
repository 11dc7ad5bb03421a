"""Service levels per tier: first response, update (no activity) and resolution targets, scaled by priority.

Defaults live in rows with workspace_id NULL (seeded by the migration); an admin's `sla` change writes the
workspace's own row, which wins over the default.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Customer, Member, Priority, ServiceLevel, Ticket, Tier
from ownership.errors import InvalidInput
from ownership.people import require_admin

from .business_time import BusinessCalendar
from .calendars import Calendars, load_calendars

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
CLOCK_BUSINESS, CLOCK_24X7 = "business", "24x7"
CLOCKS = (CLOCK_BUSINESS, CLOCK_24X7)
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
    clock: str = "business"  # business | 24x7
    urgent_clock: str = "business"  # the clock of this tier's urgent tickets

    def clock_for(self, priority: Priority) -> str:
        return self.urgent_clock if priority == Priority.URGENT else self.clock

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
        row.clock,
        row.urgent_clock,
    )


class ServiceLevels:
    """A small per-sweep cache: one query per workspace (targets, hours, holidays), not one per ticket."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._by_workspace: dict[int, dict[Tier, Targets]] = {}
        self._calendars: dict[int, Calendars] = {}

    async def calendar(
        self, workspace_id: int, team_id: int | None, *, tier: Tier, priority: Priority
    ) -> BusinessCalendar:
        """The clock a ticket of this tier and priority runs on: its team's business hours, or 24/7."""
        targets = await self.get(workspace_id, tier)
        found = self._calendars.get(workspace_id)
        if found is None:
            found = await load_calendars(self.session, workspace_id=workspace_id)
            self._calendars[workspace_id] = found
        return found.for_team(team_id, always=targets.clock_for(priority) == CLOCK_24X7)

    async def for_workspace(self, workspace_id: int) -> dict[Tier, Targets]:
        found = self._by_workspace.get(workspace_id)
        if found is None:
            found = await service_levels(self.session, workspace_id=workspace_id)
            self._by_workspace[workspace_id] = found
        return found

    async def ticket_calendar(self, ticket: Ticket, customer: Customer) -> BusinessCalendar:
        """A ticket counts its team's hours: the customer's team, else its owner's team, else the workspace's."""
        team_id = customer.team_id
        if team_id is None and ticket.owner_id is not None:
            owner = await self.session.get(Member, ticket.owner_id)
            team_id = owner.team_id if owner is not None else None
        return await self.calendar(ticket.workspace_id, team_id, tier=customer.tier, priority=ticket.priority)

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
            result[tier] = Targets(
                tier,
                *DEFAULTS[tier],
                custom=False,
                urgent_clock=CLOCK_24X7 if tier == Tier.PREMIUM else CLOCK_BUSINESS,
            )
    return result


async def _own_row(session: AsyncSession, actor: Member, tier: Tier) -> ServiceLevel:
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
            clock=current.clock,
            urgent_clock=current.urgent_clock,
        )
        session.add(own)
    return own


async def set_clock(
    session: AsyncSession, *, actor: Member, tier: Tier, clock: str, urgent: bool, now: datetime
) -> Targets:
    """`sla premium clock 24x7` (the tier's clock), `sla premium clock 24x7 --urgent` (its urgent tickets')."""
    require_admin(actor, "change service levels")
    word = clock.strip().lower().replace("/", "x")
    if word not in CLOCKS:
        raise InvalidInput(f'"{clock[:30]}" is not a clock. Use business or 24x7.')
    own = await _own_row(session, actor, tier)
    if urgent:
        own.urgent_clock = word
    else:
        own.clock = word
    own.updated_at = now
    await session.flush()
    return _targets(own)


async def set_service_level(
    session: AsyncSession, *, actor: Member, tier: Tier, target: str, minutes: int, now: datetime
) -> Targets:
    require_admin(actor, "change service levels")
    column = TARGETS.get(target.lower())
    if column is None:
        raise InvalidInput(f'"{target}" is not a target. Use one of: {", ".join(TARGETS)}.')
    own = await _own_row(session, actor, tier)
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
