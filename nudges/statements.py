"""Statements the planner runs once per row, built once (Core, bound parameters): building an ORM statement per
row cost more than running it."""

from __future__ import annotations

from sqlalchemy import Insert, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import NudgeDelivery

DELIVERIES = NudgeDelivery.__table__
assert isinstance(DELIVERIES, Table)

_NEW_DELIVERY: dict[str, Insert] = {
    "postgresql": postgresql.insert(DELIVERIES).on_conflict_do_nothing(
        index_elements=["episode_id", "step", "recipient_id", "round"]
    ),
    "sqlite": sqlite.insert(DELIVERIES).on_conflict_do_nothing(
        index_elements=["episode_id", "step", "recipient_id", "round"]
    ),
}


def new_delivery(session: AsyncSession) -> Insert:
    """INSERT … ON CONFLICT DO NOTHING of one delivery (its values as the parameters): re-planning never doubles
    a nudge."""
    return _NEW_DELIVERY[session.get_bind().dialect.name]
