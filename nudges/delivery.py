"""Claim due deliveries under a lease, then mark them sent, retried or failed: never lost, never doubled.

1. `claim_due` (one short transaction): lock the due rows (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so several
   replicas take disjoint rows; SQLite's IMMEDIATE transactions serialize), re-check that each problem still
   exists (else cancel), apply the daily cap (the rest go into one bundle), and set status=sending with
   `claimed_by` and `lease_until`. Commit.
2. In the same transaction the sweeper renders each `Message` and hands it to the outbox (`db.outbox`) as one
   row, and `nudges.handed.mark_handed_over` records the batch's hand-overs (fenced by `claimed_by` and status,
   so a sweeper whose lease was taken over cannot overwrite the new owner's result). From then on the outbox's
   one sender delivers it, retrying as the platform asks; nothing of a claimed nudge lives only in memory.
3. When the platform refuses it for good, `nudges.handed.fail_handed_over` records why and tells the recipient's
   lead.
A sweeper that dies inside 1-2 rolls back; its claim was never committed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import (
    Customer,
    DeliveryStatus,
    Member,
    NudgeDelivery,
    NudgeEpisode,
    NudgeKind,
    Ticket,
    Workspace,
)

from .escalation import HELD_BY_CAP
from .hours import local_day_bounds, next_work_start
from .levels import ServiceLevels
from .preload import preload
from .rerouting import reroute
from .rules import Evaluation, evaluate
from .settings import NudgeSettings
from .urgency import urgency_key

UNCAPPED = (NudgeKind.DIGEST, NudgeKind.DELIVERY_FAILED)
NEVER_HELD = (NudgeKind.SLA_BREACH,)  # the cap never holds a breach back, for anyone
ESCALATION_AUDIENCES = ("lead", "admin")  # leads and admins are not capped for escalations


def capped(kind: NudgeKind, urgent: bool, step: int, audience: str) -> bool:
    """Does this nudge count against (and wait behind) the daily cap? Only routine reminders do."""
    if kind in UNCAPPED or kind in NEVER_HELD or urgent:
        return False
    return not (step > 0 and audience in ESCALATION_AUDIENCES)


async def urgency_of(session: AsyncSession, delivery: NudgeDelivery, episode: NudgeEpisode, now: datetime) -> tuple:  # type: ignore[type-arg]
    """Where a nudge goes in a person's message order: breaches first, then tier x priority, then how late."""
    ticket = await session.get(Ticket, episode.ticket_id) if episode.ticket_id else None
    customer = await session.get(Customer, episode.customer_id) if episode.customer_id else None
    key = urgency_key(
        tier=customer.tier if customer else None,
        priority=ticket.priority if ticket else None,
        past_due=now - episode.started_at,
        ident=delivery.id,
    )
    return (0 if delivery.kind in NEVER_HELD else 1, *key)


@dataclass
class Message:
    """One message to one person: a single nudge, or a bundle of several once the daily cap is reached."""

    recipient: Member
    workspace: Workspace
    deliveries: list[NudgeDelivery]
    episodes: dict[int, NudgeEpisode] = field(default_factory=dict)
    bundle: bool = False

    @property
    def ids(self) -> list[int]:
        return [d.id for d in self.deliveries]


@dataclass(frozen=True)
class ClaimResult:
    messages: list[Message]
    cancelled: int
    held: int


def claimable(now: datetime):  # type: ignore[no-untyped-def]
    return or_(
        and_(NudgeDelivery.status == DeliveryStatus.PLANNED, NudgeDelivery.due_at <= now),
        and_(NudgeDelivery.status == DeliveryStatus.SENDING, NudgeDelivery.lease_until <= now),
    )


async def still_needed(
    session: AsyncSession,
    delivery: NudgeDelivery,
    episode: NudgeEpisode,
    *,
    now: datetime,
    policy: NudgeSettings,
    levels: ServiceLevels,
    cache: dict[tuple[str, int], Evaluation],
) -> bool:
    """Does the problem still exist? (The evaluation stays in `cache` for `reroute`.)"""
    if delivery.kind == NudgeKind.DELIVERY_FAILED:
        return True
    if episode.done_at is not None:
        return False
    key = (episode.subject_kind.value, episode.subject_id)
    if key not in cache:
        cache[key] = await evaluate(
            session, episode.subject_kind, episode.subject_id, now=now, policy=policy, levels=levels
        )
    evaluation = cache[key]
    return not evaluation.gone and (episode.kind, episode.episode) in {(n.kind, n.episode) for n in evaluation.needs}


async def _messages_today(session: AsyncSession, members: list[Member], now: datetime) -> dict[int, tuple[int, bool]]:
    """For each member: how many single nudges they got today (their local day), and whether a bundle went out.
    One query for all of them (the widest span of their days), each member's own day counted here."""
    if not members:
        return {}
    days = {m.id: local_day_bounds(m, now) for m in members}
    rows = await session.execute(
        select(
            NudgeDelivery.recipient_id,
            NudgeDelivery.sent_at,
            NudgeDelivery.bundle_id,
            NudgeDelivery.urgent,
            NudgeDelivery.kind,
            NudgeDelivery.step,
            NudgeDelivery.audience,
        ).where(
            NudgeDelivery.recipient_id.in_(list(days)),
            NudgeDelivery.sent_at >= min(start for start, _ in days.values()),
            NudgeDelivery.sent_at < max(end for _, end in days.values()),
            NudgeDelivery.status.in_((DeliveryStatus.SENT, DeliveryStatus.BUNDLED)),
        )
    )
    counts = dict.fromkeys(days, (0, False))
    for recipient_id, sent_at, bundle_id, urgent, kind, step, audience in rows.all():
        start, end = days[recipient_id]
        if sent_at is None or not start <= _aware(sent_at, start) < end or not capped(kind, urgent, step, audience):
            continue
        singles, bundled = counts[recipient_id]
        counts[recipient_id] = (singles + 1, bundled) if bundle_id is None else (singles, True)
    return counts


def _aware(moment: datetime, like: datetime) -> datetime:
    """SQLite hands back naive UTC timestamps: compare them as the aware moments they are."""
    if moment.tzinfo is None and like.tzinfo is not None:
        return moment.replace(tzinfo=like.tzinfo)
    return moment


async def claim_due(session: AsyncSession, *, now: datetime, worker: str, policy: NudgeSettings) -> ClaimResult:
    rows = (
        (
            await session.execute(
                select(NudgeDelivery)
                .where(claimable(now))
                .order_by(NudgeDelivery.due_at, NudgeDelivery.id)
                .limit(policy.batch_size)
                .with_for_update(skip_locked=True)
                .execution_options(populate_existing=True)
            )
        )
        .scalars()
        .all()
    )
    levels = ServiceLevels(session)
    cache: dict[tuple[str, int], Evaluation] = {}
    episodes: dict[int, NudgeEpisode] = {}
    if rows:  # every claimed row's episode, fresh, in one read
        found = await session.scalars(
            select(NudgeEpisode)
            .where(NudgeEpisode.id.in_({d.episode_id for d in rows}))
            .execution_options(populate_existing=True)
        )
        episodes = {e.id: e for e in found}
        await preload(session, [(e.subject_kind, e.subject_id) for e in episodes.values() if e.done_at is None])
    keep: list[NudgeDelivery] = []
    cancelled = 0
    for delivery in rows:
        episode = episodes[delivery.episode_id]
        if delivery.status == DeliveryStatus.SENDING:
            delivery.error = f"lease of {delivery.claimed_by} expired; sending again"
        if await still_needed(session, delivery, episode, now=now, policy=policy, levels=levels, cache=cache):
            evaluation = cache.get((episode.subject_kind.value, episode.subject_id))
            # a custody that began or ended since it was planned: to whoever acts for the owner now
            if evaluation is None or await reroute(session, delivery, episode, evaluation, now=now):
                keep.append(delivery)
            elif delivery.status == DeliveryStatus.CANCELLED:
                cancelled += 1
        else:
            delivery.status = DeliveryStatus.CANCELLED
            delivery.claimed_by = None
            delivery.lease_until = None
            cancelled += 1
    by_person: dict[int, list[NudgeDelivery]] = {}
    for delivery in keep:
        by_person.setdefault(delivery.recipient_id, []).append(delivery)
    messages: list[Message] = []
    held = 0
    lease = now + timedelta(seconds=policy.lease_seconds)
    people = {member_id: await session.get(Member, member_id) for member_id in by_person}
    today = await _messages_today(session, [m for m in people.values() if m is not None], now)
    for member_id, deliveries in by_person.items():
        member = people[member_id]
        assert member is not None
        workspace = await session.get(Workspace, member.workspace_id)
        assert workspace is not None
        order = {d.id: await urgency_of(session, d, episodes[d.episode_id], now) for d in deliveries}
        deliveries.sort(key=lambda d: order[d.id])  # the most urgent first: singles before the bundle
        routine = [d for d in deliveries if capped(d.kind, d.urgent, d.step, d.audience)]
        free = [d for d in deliveries if d not in routine]
        singles, bundled = today[member.id]
        slots = max(0, policy.daily_cap - singles)
        single_ones, rest = routine[:slots], routine[slots:]
        groups = [([d], False) for d in free + single_ones]
        if rest and not bundled:
            groups.append((rest, True))
        elif rest:  # today's bundle already went out: the rest wait for the next working morning
            morning = next_work_start(member, now)
            for d in rest:
                d.status = DeliveryStatus.PLANNED
                d.due_at = morning
                d.claimed_by = None
                d.lease_until = None
                d.error = HELD_BY_CAP
                held += 1
        for group, is_bundle in groups:
            for d in group:
                d.status = DeliveryStatus.SENDING
                d.claimed_by = worker
                d.lease_until = lease
                d.attempts += 1
                d.bundle_id = group[0].id if is_bundle else None
            messages.append(
                Message(
                    member, workspace, group, {d.episode_id: episodes[d.episode_id] for d in group}, bundle=is_bundle
                )
            )
    await session.flush()
    return ClaimResult(messages, cancelled, held)


async def delivery_counts(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(select(NudgeDelivery.status, func.count()).group_by(NudgeDelivery.status))
    return {status.value: count for status, count in rows.all()}
