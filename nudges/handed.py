"""What becomes of a claimed nudge message once it is handed to the outbox (see `nudges.delivery` for the
claim): `mark_sent` / `mark_handed_over` record the hand-over (fenced by `claimed_by` and status, so a sweeper
whose lease was taken over cannot overwrite the new owner's result), `record_message` where the platform put
it, `fail_handed_over` a permanent failure (the recipient's lead is told instead)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Table, bindparam, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import DeliveryStatus, Member, NudgeDelivery, NudgeKind
from db.upsert import insert_or_ignore

from .planner import lead_of


async def mark_sent(
    session: AsyncSession,
    *,
    ids: list[int],
    worker: str,
    now: datetime,
    platform: str,
    channel: str,
    message_id: str,
) -> int:
    """Sent: only rows this worker still holds (a taken-over lease is not overwritten)."""
    result = await session.execute(
        update(NudgeDelivery)
        .where(
            NudgeDelivery.id.in_(ids),
            NudgeDelivery.claimed_by == worker,
            NudgeDelivery.status == DeliveryStatus.SENDING,
        )
        .values(
            status=DeliveryStatus.SENT,
            sent_at=now,
            lease_until=None,
            error=None,
            message_platform=platform,
            message_channel=channel,
            message_id=message_id,
        )
        .execution_options(synchronize_session=False)
    )
    if len(ids) > 1:  # a bundle: the first row carries the message, the others went inside it
        await session.execute(
            update(NudgeDelivery)
            .where(
                NudgeDelivery.id.in_(ids[1:]),
                NudgeDelivery.claimed_by == worker,
                NudgeDelivery.status == DeliveryStatus.SENT,
            )
            .values(status=DeliveryStatus.BUNDLED)
            .execution_options(synchronize_session=False)
        )
    return result.rowcount  # type: ignore[attr-defined,no-any-return]


@dataclass(frozen=True)
class Handed:
    """One message handed to the outbox: its deliveries (the first carries it) and where it will live."""

    ids: list[int]
    platform: str
    channel: str
    message_id: str


_DELIVERIES = NudgeDelivery.__table__
assert isinstance(_DELIVERIES, Table)
_MARK_SENT = (
    update(_DELIVERIES)
    .where(
        _DELIVERIES.c.id == bindparam("first_id"),
        _DELIVERIES.c.claimed_by == bindparam("worker"),
        _DELIVERIES.c.status == DeliveryStatus.SENDING,
    )
    .values(
        status=DeliveryStatus.SENT,
        sent_at=bindparam("now"),
        lease_until=None,
        error=None,
        message_platform=bindparam("platform"),
        message_channel=bindparam("channel"),
        message_id=bindparam("message_id"),
    )
)


async def mark_handed_over(session: AsyncSession, handed: list[Handed], *, worker: str, now: datetime) -> None:
    """`mark_sent` for many messages at once, with the same fence (only rows this worker still holds): one
    executemany for every message's deliveries, then one UPDATE turns the rows inside bundles to bundled."""
    rows = [
        {
            "first_id": i,
            "worker": worker,
            "now": now,
            "platform": h.platform,
            "channel": h.channel,
            "message_id": h.message_id,
        }
        for h in handed
        for i in h.ids
    ]
    if not rows:
        return
    await session.execute(_MARK_SENT, rows)
    inside = [i for h in handed for i in h.ids[1:]]
    if inside:
        await session.execute(
            update(NudgeDelivery)
            .where(
                NudgeDelivery.id.in_(inside),
                NudgeDelivery.claimed_by == worker,
                NudgeDelivery.status == DeliveryStatus.SENT,
            )
            .values(status=DeliveryStatus.BUNDLED)
            .execution_options(synchronize_session=False)
        )


async def record_message(session: AsyncSession, *, first_id: int, platform: str, channel: str, message_id: str) -> None:
    """The outbox delivered the message that carried delivery `first_id` (and its bundle): where it lives."""
    await session.execute(
        _RECORD_MESSAGE,
        {"first_id": first_id, "platform": platform, "channel": channel[:128], "message_id": message_id[:128]},
    )


# within the recipient's rows (indexed; a bundle is one person's), not a scan of every delivery for bundle_id;
# built once (Core, bound parameters): the outbox sender runs it for every nudge message it sends
_RECORD_MESSAGE = (
    update(_DELIVERIES)
    .where(
        _DELIVERIES.c.recipient_id
        == select(_DELIVERIES.c.recipient_id).where(_DELIVERIES.c.id == bindparam("first_id")).scalar_subquery(),
        or_(_DELIVERIES.c.id == bindparam("first_id"), _DELIVERIES.c.bundle_id == bindparam("first_id")),
    )
    .values(
        message_platform=bindparam("platform"),
        message_channel=bindparam("channel"),
        message_id=bindparam("message_id"),
    )
)


async def fail_handed_over(session: AsyncSession, *, first_id: int, now: datetime, error: str) -> list[NudgeDelivery]:
    """The outbox could not deliver the message that carried delivery `first_id` (and, for a bundle, the ones
    bundled with it): mark them failed and tell the recipient's lead, once."""
    failed = list(
        (
            await session.execute(
                select(NudgeDelivery)
                .where(
                    or_(NudgeDelivery.id == first_id, NudgeDelivery.bundle_id == first_id),
                    NudgeDelivery.status.in_((DeliveryStatus.SENT, DeliveryStatus.BUNDLED)),
                )
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        ).scalars()
    )
    return await _tell_lead_instead(session, failed, now=now, error=error)


async def _tell_lead_instead(
    session: AsyncSession, failed: list[NudgeDelivery], *, now: datetime, error: str
) -> list[NudgeDelivery]:
    created: list[NudgeDelivery] = []
    for delivery in failed:
        delivery.status = DeliveryStatus.FAILED
        delivery.error = error[:500]
        delivery.lease_until = None
        if delivery.kind == NudgeKind.DELIVERY_FAILED:
            continue  # telling the lead failed too: it stays recorded as failed, for the history and the logs
        recipient = await session.get(Member, delivery.recipient_id)
        for person, role in await lead_of(session, delivery.workspace_id, recipient, None):
            values = {
                "workspace_id": delivery.workspace_id,
                "episode_id": delivery.episode_id,
                "kind": NudgeKind.DELIVERY_FAILED,
                "step": delivery.step,
                "round": -delivery.id,
                "recipient_id": person.id,
                "audience": role,
                "urgent": False,
                "status": DeliveryStatus.PLANNED,
                "planned_at": now,
                "due_at": now,
                "attempts": 0,
                "error": f"could not reach recipient #{delivery.recipient_id}: {error[:300]}",
            }
            await insert_or_ignore(session, NudgeDelivery, values, ["episode_id", "step", "recipient_id", "round"])
            created.append(NudgeDelivery(**values))
    await session.flush()
    return created
