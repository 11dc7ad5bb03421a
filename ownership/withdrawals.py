"""Take back a handoff offer before its receiver answers: the offerer (whoever asked, or the owner it was offered
from) or a lead. A conditional UPDATE (`... WHERE status = 'pending'`), so a withdrawal and an accept that cross
resolve to exactly one of them; the withdrawal is written to the append-only audit trail."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Customer, EventKind, HandoffRequest, HandoffStatus, Member, Platform

from .claim_views import pending_handoff
from .claims import customer_event
from .errors import Conflict, NotFound, NotOwner
from .people import is_lead


async def withdraw_handoff(
    session: AsyncSession, *, actor: Member, customer: Customer, platform: Platform, now: datetime
) -> HandoffRequest:
    """Withdraw the handoff of `customer` waiting for an answer; the customer stays with its owner."""
    pending = await pending_handoff(session, customer=customer)
    if pending is None:
        raise NotFound(f"No handoff of {customer.name} is waiting for an answer, so there is nothing to withdraw.")
    if actor.id not in (pending.requested_by_id, pending.from_member_id) and not is_lead(actor):
        raise NotOwner("Only whoever offered this handoff, or a lead, can withdraw it.")
    result = await session.execute(
        update(HandoffRequest)
        .where(HandoffRequest.id == pending.id, HandoffRequest.status == HandoffStatus.PENDING)
        .values(status=HandoffStatus.WITHDRAWN, decided_at=now)
        .execution_options(synchronize_session=False)
    )
    await session.refresh(pending)
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(f"This handoff was already {pending.status.value}.")
    session.add(
        customer_event(
            customer,
            EventKind.HANDOFF_WITHDRAWN,
            actor=actor,
            platform=platform,
            now=now,
            from_id=pending.from_member_id,
            to_id=pending.to_member_id,
            reason=pending.reason,
            handoff=pending,
        )
    )
    await session.flush()
    return pending
