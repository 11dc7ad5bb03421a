"""Subjects read fresh for a whole batch, one query per kind, before the batch evaluates them one by one
(`nudges.rules.evaluate`): tickets with their customers, customers with the ownership facts their rules need,
handoffs with their customers. The planner and the delivery each evaluate up to a batch of subjects in one
transaction, and a query or two per subject was most of their cost (every claim puts its customer up for a
re-check, every handoff itself)."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Customer, EventKind, HandoffRequest, OwnershipEvent, SubjectKind, Ticket
from db.models.base import one_of
from ownership.claim_views import REASSIGN_KINDS


@dataclass(frozen=True)
class CustomerFacts:
    customer: Customer
    moves: int  # how often it changed hands (hot potato)
    released: datetime | None  # when it was last put back in the team queue


def _events(*kinds: EventKind) -> Any:
    return (OwnershipEvent.customer_id == Customer.id) & one_of(OwnershipEvent.kind, kinds)


@dataclass(frozen=True)
class _Kind:
    query: Any  # a select of the rows, without their WHERE
    key: Any  # the column that names the subject
    made: Callable[[Any], Any]  # a row as the evaluation takes it


_KINDS = {
    SubjectKind.TICKET: _Kind(
        select(Ticket, Customer).join(Customer, Customer.id == Ticket.customer_id),
        Ticket.id,
        lambda row: (row[0], row[1]),
    ),
    SubjectKind.CUSTOMER: _Kind(
        select(
            Customer,
            select(func.count()).where(_events(*REASSIGN_KINDS)).scalar_subquery().label("moves"),
            select(func.max(OwnershipEvent.at)).where(_events(EventKind.RELEASE)).scalar_subquery().label("released"),
        ),
        Customer.id,
        lambda row: CustomerFacts(row[0], row.moves, row.released),
    ),
    SubjectKind.HANDOFF: _Kind(
        select(HandoffRequest, Customer).join(Customer, Customer.id == HandoffRequest.customer_id),
        HandoffRequest.id,
        lambda row: (row[0], row[1]),
    ),
}
_QUERIES = {kind: found.query.execution_options(populate_existing=True) for kind, found in _KINDS.items()}


def _preloaded(session: AsyncSession, kind: SubjectKind) -> dict[int, Any]:
    found: dict[int, Any] = session.info.setdefault(f"nudges.preload.{kind.value}", {})
    return found


async def preload(session: AsyncSession, subjects: Collection[tuple[SubjectKind, int]]) -> None:
    """Read these subjects, one query per kind, for the evaluations that follow in this transaction."""
    for kind, found in _KINDS.items():
        ids = {subject_id for subject_kind, subject_id in subjects if subject_kind == kind}
        if ids:
            rows = await session.execute(_QUERIES[kind].where(found.key.in_(ids)))
            _preloaded(session, kind).update({row[0].id: found.made(row) for row in rows})


async def _taken(session: AsyncSession, kind: SubjectKind, subject_id: int) -> Any:
    """The preloaded subject if there is one (each is taken once: a second evaluation reads it again), else it is
    read now; None when it is gone."""
    row = _preloaded(session, kind).pop(subject_id, None)
    if row is not None:
        return row
    fresh = (await session.execute(_QUERIES[kind].where(_KINDS[kind].key == subject_id))).first()
    return _KINDS[kind].made(fresh) if fresh is not None else None


async def ticket_with_customer(session: AsyncSession, ticket_id: int) -> tuple[Ticket, Customer] | None:
    found: tuple[Ticket, Customer] | None = await _taken(session, SubjectKind.TICKET, ticket_id)
    return found


async def customer_facts(session: AsyncSession, customer_id: int) -> CustomerFacts | None:
    found: CustomerFacts | None = await _taken(session, SubjectKind.CUSTOMER, customer_id)
    return found


async def handoff_with_customer(session: AsyncSession, handoff_id: int) -> tuple[HandoffRequest, Customer] | None:
    found: tuple[HandoffRequest, Customer] | None = await _taken(session, SubjectKind.HANDOFF, handoff_id)
    return found
