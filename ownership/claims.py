"""Claim, warm handoff (accept / decline), reassign and release, each written with its audit event.

Ownership changes are conditional UPDATEs (`... WHERE owner_id IS NULL`, `... WHERE status = 'pending'`), so
concurrent claims, double clicks and two replicas resolve to exactly one winner on SQLite and PostgreSQL.
Who owns what, the audit history and someone's customers are read in `claim_views`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from db.models import (
    Customer,
    EventKind,
    HandoffRequest,
    HandoffStatus,
    Member,
    OwnershipEvent,
    Platform,
    Ticket,
)
from db.models.base import one_of

from .claim_views import ACTIVE_STATUSES, pending_handoff
from .errors import AlreadyOwned, Conflict, InvalidInput, NotFound, NotOwner, ReasonRequired
from .people import is_lead

MIN_REASON = 10
MAX_REASON = 2000


def require_reason(reason: str | None, what: str) -> str:
    text = " ".join((reason or "").split())
    if len(text) < MIN_REASON:
        raise ReasonRequired(
            f"{what} needs a reason of at least {MIN_REASON} characters, so the next person knows why."
        )
    if len(text) > MAX_REASON:
        raise InvalidInput(f"That reason is {len(text)} characters long; keep it under {MAX_REASON}.")
    return text


def customer_event(
    customer: Customer,
    kind: EventKind,
    *,
    actor: Member | None,
    platform: Platform,
    now: datetime,
    from_id: int | None = None,
    to_id: int | None = None,
    reason: str | None = None,
    handoff: HandoffRequest | None = None,
) -> OwnershipEvent:
    return OwnershipEvent(
        workspace_id=customer.workspace_id,
        kind=kind,
        customer_id=customer.id,
        from_member_id=from_id,
        to_member_id=to_id,
        actor_id=actor.id if actor else None,
        reason=reason,
        handoff_id=handoff.id if handoff else None,
        platform=platform,
        at=now,
    )


CUSTOMERS, TICKETS, EVENTS = (cast(Table, model.__table__) for model in (Customer, Ticket, OwnershipEvent))
# The customer's active tickets: they follow its owner (the database moves them: migration 0015's trigger).
_ACTIVE_TICKETS = (
    select(func.count())
    .where(TICKETS.c.customer_id == CUSTOMERS.c.id, one_of(TICKETS.c.status, ACTIVE_STATUSES))
    .scalar_subquery()
)
# Built once (Core, not the ORM's bulk path): a claim's statements cost what SQLite takes to run them.
_SET_OWNER = {
    free: update(CUSTOMERS)
    .where(
        CUSTOMERS.c.id == bindparam("changed_customer"),
        CUSTOMERS.c.owner_id.is_(None) if free else CUSTOMERS.c.owner_id == bindparam("expected_owner"),
    )
    .values(owner_id=bindparam("new_owner"), owned_since=bindparam("since"))
    .returning(CUSTOMERS.c.owner_id, CUSTOMERS.c.owned_since, _ACTIVE_TICKETS.label("tickets"))
    for free in (True, False)
}
_EVENT = insert(EVENTS)


async def _set_owner(
    session: AsyncSession, customer: Customer, *, expected: int | None, to_id: int | None, now: datetime
) -> int | None:
    """The customer's new owner, if it still had the `expected` one (None: nobody). The database moves its open
    and pending tickets along and counts a move away from someone as a re-assign (migration 0015's trigger).
    Returns how many tickets followed, or None when the customer had changed hands."""
    values = {"changed_customer": customer.id, "new_owner": to_id, "since": now if to_id else None}
    if expected is not None:
        values["expected_owner"] = expected
    changed = (await session.execute(_SET_OWNER[expected is None], values)).first()
    if changed is None:
        return None
    # what the row now holds, without another SELECT (and without marking the customer as changed)
    set_committed_value(customer, "owner_id", changed.owner_id)
    set_committed_value(customer, "owned_since", changed.owned_since)
    return int(changed.tickets)


async def record_event(session: AsyncSession, event: OwnershipEvent) -> None:
    """The audit row, written with Core (no unit-of-work flush). The database puts the customer and its active
    tickets up for a nudge re-check (migration 0015's trigger)."""
    row = {column.key: getattr(event, column.key) for column in EVENTS.columns if column.key != "id"}
    await session.execute(_EVENT, row)


async def _owner_name(session: AsyncSession, member_id: int | None) -> str:
    if member_id is None:
        return "nobody"
    return (await session.scalar(select(Member.display_name).where(Member.id == member_id))) or "someone"


async def _cancel_pending(
    session: AsyncSession, customer: Customer, *, actor: Member, platform: Platform, now: datetime, why: str
) -> None:
    pending = await pending_handoff(session, customer=customer)
    if pending is None:
        return
    pending.status = HandoffStatus.CANCELLED
    pending.decided_at = now
    pending.decline_reason = why
    await record_event(
        session,
        customer_event(
            customer,
            EventKind.HANDOFF_CANCELLED,
            actor=actor,
            platform=platform,
            now=now,
            from_id=pending.from_member_id,
            to_id=pending.to_member_id,
            reason=why,
            handoff=pending,
        ),
    )


@dataclass(frozen=True)
class ClaimResult:
    customer: Customer
    already_yours: bool
    tickets_moved: int


async def claim_customer(
    session: AsyncSession, *, actor: Member, customer: Customer, platform: Platform, now: datetime
) -> ClaimResult:
    moved = await _set_owner(session, customer, expected=None, to_id=actor.id, now=now)
    if moved is None:
        await session.refresh(customer)
        if customer.owner_id == actor.id:
            return ClaimResult(customer, already_yours=True, tickets_moved=0)
        raise AlreadyOwned(customer.name, await _owner_name(session, customer.owner_id))
    await record_event(
        session, customer_event(customer, EventKind.CLAIM, actor=actor, platform=platform, now=now, to_id=actor.id)
    )
    return ClaimResult(customer, already_yours=False, tickets_moved=moved)


def _require_owner_or_lead(actor: Member, customer: Customer, what: str) -> None:
    if customer.owner_id != actor.id and not is_lead(actor):
        raise NotOwner(f"Only {customer.name}'s owner or a lead can {what}.")


async def request_handoff(
    session: AsyncSession,
    *,
    actor: Member,
    customer: Customer,
    to: Member,
    reason: str | None,
    platform: Platform,
    now: datetime,
) -> HandoffRequest:
    """Ask `to` to take the customer over. Until they accept, the current owner still owns it."""
    reason_text = require_reason(reason, "A handoff")
    if customer.owner_id is None:
        raise Conflict(f"Nobody owns {customer.name} yet, so there is nothing to hand off: `claim` it instead.")
    _require_owner_or_lead(actor, customer, "hand it off")
    if to.workspace_id != customer.workspace_id:
        raise NotFound("That person is not in this workspace.")
    if to.id == customer.owner_id:
        raise Conflict(f"{to.display_name} already owns {customer.name}.")
    waiting = await pending_handoff(session, customer=customer)
    if waiting is not None:
        raise Conflict(
            f"A handoff of {customer.name} to {await _owner_name(session, waiting.to_member_id)} is already "
            "waiting for an answer."
        )
    handoff = HandoffRequest(
        workspace_id=customer.workspace_id,
        customer_id=customer.id,
        from_member_id=customer.owner_id,
        to_member_id=to.id,
        requested_by_id=actor.id,
        reason=reason_text,
        status=HandoffStatus.PENDING,
        platform=platform,
        requested_at=now,
    )
    try:
        async with session.begin_nested():
            session.add(handoff)
            await session.flush()
    except IntegrityError:
        raise Conflict(f"Another handoff of {customer.name} was just requested; look again in a moment.") from None
    await record_event(
        session,
        customer_event(
            customer,
            EventKind.HANDOFF_REQUESTED,
            actor=actor,
            platform=platform,
            now=now,
            from_id=customer.owner_id,
            to_id=to.id,
            reason=reason_text,
            handoff=handoff,
        ),
    )
    await session.flush()
    return handoff


async def _decide(
    session: AsyncSession, handoff: HandoffRequest, actor: Member, status: HandoffStatus, now: datetime
) -> None:
    if handoff.to_member_id != actor.id:
        raise NotOwner("Only the person this handoff was offered to can answer it.")
    result = await session.execute(
        update(HandoffRequest)
        .where(HandoffRequest.id == handoff.id, HandoffRequest.status == HandoffStatus.PENDING)
        .values(status=status, decided_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        await session.refresh(handoff)
        raise Conflict(f"This handoff was already {handoff.status.value}.")
    set_committed_value(handoff, "status", status)  # what the row now holds, without reading it back
    set_committed_value(handoff, "decided_at", now)


async def accept_handoff(
    session: AsyncSession, *, actor: Member, handoff: HandoffRequest, platform: Platform, now: datetime
) -> Customer:
    await _decide(session, handoff, actor, HandoffStatus.ACCEPTED, now)
    customer = await session.get(Customer, handoff.customer_id, populate_existing=True)
    assert customer is not None
    if await _set_owner(session, customer, expected=handoff.from_member_id, to_id=actor.id, now=now) is None:
        raise Conflict(f"{customer.name} changed hands since this handoff was offered; it no longer applies.")
    await record_event(
        session,
        customer_event(
            customer,
            EventKind.HANDOFF_ACCEPTED,
            actor=actor,
            platform=platform,
            now=now,
            from_id=handoff.from_member_id,
            to_id=actor.id,
            reason=handoff.reason,
            handoff=handoff,
        ),
    )
    await session.flush()
    return customer


async def decline_handoff(
    session: AsyncSession,
    *,
    actor: Member,
    handoff: HandoffRequest,
    reason: str | None,
    platform: Platform,
    now: datetime,
) -> Customer:
    reason_text = require_reason(reason, "Declining a handoff")
    await _decide(session, handoff, actor, HandoffStatus.DECLINED, now)
    handoff.decline_reason = reason_text
    customer = await session.get(Customer, handoff.customer_id)
    assert customer is not None
    await record_event(
        session,
        customer_event(
            customer,
            EventKind.HANDOFF_DECLINED,
            actor=actor,
            platform=platform,
            now=now,
            from_id=handoff.from_member_id,
            to_id=actor.id,
            reason=reason_text,
            handoff=handoff,
        ),
    )
    await session.flush()
    return customer


async def reassign_customer(
    session: AsyncSession,
    *,
    actor: Member,
    customer: Customer,
    to: Member,
    reason: str | None,
    platform: Platform,
    now: datetime,
) -> Customer:
    """A lead moves a customer directly, no acceptance needed; the reason is still required."""
    reason_text = require_reason(reason, "A reassignment")
    if not is_lead(actor):
        raise NotOwner("Only leads and admins can reassign directly. Use `handoff` to ask someone to take over.")
    if to.id == customer.owner_id:
        raise Conflict(f"{to.display_name} already owns {customer.name}.")
    previous = customer.owner_id
    await _cancel_pending(
        session, customer, actor=actor, platform=platform, now=now, why="superseded by a reassignment"
    )
    if await _set_owner(session, customer, expected=previous, to_id=to.id, now=now) is None:
        raise Conflict(f"{customer.name} changed hands just now; look again and retry.")
    await record_event(
        session,
        customer_event(
            customer,
            EventKind.REASSIGN,
            actor=actor,
            platform=platform,
            now=now,
            from_id=previous,
            to_id=to.id,
            reason=reason_text,
        ),
    )
    await session.flush()
    return customer


async def release_customer(
    session: AsyncSession,
    *,
    actor: Member,
    customer: Customer,
    reason: str | None,
    platform: Platform,
    now: datetime,
) -> Customer:
    """Back to the team queue: nobody owns it until someone claims it."""
    reason_text = require_reason(reason, "A release")
    if customer.owner_id is None:
        raise Conflict(f"Nobody owns {customer.name}; it is already in the team queue.")
    _require_owner_or_lead(actor, customer, "release it")
    previous = customer.owner_id
    await _cancel_pending(session, customer, actor=actor, platform=platform, now=now, why="customer released")
    if await _set_owner(session, customer, expected=previous, to_id=None, now=now) is None:
        raise Conflict(f"{customer.name} changed hands just now; look again and retry.")
    await record_event(
        session,
        customer_event(
            customer, EventKind.RELEASE, actor=actor, platform=platform, now=now, from_id=previous, reason=reason_text
        ),
    )
    await session.flush()
    return customer
