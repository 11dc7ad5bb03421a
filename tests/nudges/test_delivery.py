"""Delivery that never loses or doubles: retries, permanent failures, expired leases, concurrent sweepers.

The platform stand-in below is the only fake: it plays Slack answering 429 or Teams saying "this user never
talked to the bot" at the Notifier port, and otherwise delivers into the real ConsoleNotifier inbox.
"""

from __future__ import annotations

import asyncio
from collections import Counter

from sqlalchemy import select, update

from bot.console import ConsoleNotifier
from db.models import DeliveryStatus, NudgeDelivery, NudgeKind, OutboxMessage, OutboxStatus, Platform
from handlers import Reply
from handlers.ports import DeliveryFailed, MessageRef
from jobs.nudge_sweep import NudgeSweeper
from nudges.handed import Handed, mark_handed_over, mark_sent
from nudges.settings import NudgeSettings

from ..conftest import Clock, Database
from .conftest import Desk


async def outbox_rows(db: Database, target: str | None = None) -> list[OutboxMessage]:
    async with db.sessions() as session:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        if target is not None:
            query = query.where(OutboxMessage.target == target)
        return list((await session.execute(query)).scalars())


class ScriptedPlatform:
    """Refuses the first deliveries as scripted (per user), then delivers into the inbox."""

    platform = Platform.CONSOLE

    def __init__(self, inbox: ConsoleNotifier, script: dict[str, list[DeliveryFailed | Exception]]) -> None:
        self.inbox = inbox
        self.script = script

    async def send_direct(self, *, workspace: str, user_id: str, reply: Reply) -> MessageRef:
        queue = self.script.get(user_id) or []
        if queue:
            raise queue.pop(0)
        return await self.inbox.send_direct(workspace=workspace, user_id=user_id, reply=reply)

    async def post_channel(self, *, workspace: str, channel_id: str, reply: Reply) -> MessageRef:
        return await self.inbox.post_channel(workspace=workspace, channel_id=channel_id, reply=reply)

    async def update(self, *, ref: MessageRef, reply: Reply) -> None:
        await self.inbox.update(ref=ref, reply=reply)


async def test_rate_limits_and_errors_are_retried_later_not_dropped(
    desk: Desk, db: Database, clock: Clock, policy: NudgeSettings
) -> None:
    platform = ScriptedPlatform(
        desk.inbox,
        {"U1": [DeliveryFailed("429 rate_limited", retry_after=30), ConnectionResetError("connection reset by peer")]},
    )
    desk.sweeper = NudgeSweeper(db.sessions, {Platform.CONSOLE: platform}, policy=policy, clock=clock, worker="w1")
    await desk.ticket("Acme", tier="premium")
    first = await desk.tick(hours=4)
    assert first.retried == 1 and desk.got("U1") == []
    [row] = await outbox_rows(db, "U1")  # the nudge was handed to the outbox; it waits there
    assert row.status == OutboxStatus.PENDING and row.last_error == "429 rate_limited"
    assert (row.due_at - clock.now).total_seconds() == 30
    await desk.tick(seconds=29)
    assert desk.got("U1") == []
    second = await desk.tick(seconds=1)
    assert second.retried == 1 and desk.got("U1") == []  # the network error: again after a back-off (10 s)
    await desk.tick(seconds=9)
    assert desk.got("U1") == []
    await desk.tick(seconds=1)
    assert len(desk.got("U1", "no update")) == 1
    [row] = await outbox_rows(db, "U1")
    assert row.status == OutboxStatus.SENT and row.attempts == 3 and row.message_id
    [nudge] = [d for d in await desk.deliveries() if d.kind == NudgeKind.STALE]
    assert nudge.status == DeliveryStatus.SENT and nudge.message_id == row.message_id  # where it lives


async def test_permanent_failure_is_recorded_and_the_lead_is_told(
    desk: Desk, db: Database, clock: Clock, policy: NudgeSettings
) -> None:
    platform = ScriptedPlatform(desk.inbox, {"U1": [DeliveryFailed("user never installed the app", permanent=True)]})
    desk.sweeper = NudgeSweeper(db.sessions, {Platform.CONSOLE: platform}, policy=policy, clock=clock, worker="w1")
    ticket = await desk.ticket("Acme", tier="premium")
    result = await desk.tick(hours=4)
    assert result.failed == 1
    await desk.tick()
    [told] = desk.got("U_LEAD", "could not be delivered")
    assert "user never installed the app" in dict(told["reply"]["fields"])["Delivery"]
    history = await desk.chat.say("U_LEAD", f"nudges #{ticket}")
    lines = [v for _, v in history.fields]
    assert any("→ u1 (owner, step 1/3): failed (user never installed the app)" in line for line in lines)
    assert any("→ u_lead (lead, delivery failed, told instead): sent" in line for line in lines)


async def test_platform_without_a_notifier_waits_instead_of_dropping(
    desk: Desk, db: Database, clock: Clock, policy: NudgeSettings
) -> None:
    desk.sweeper = NudgeSweeper(db.sessions, {}, policy=policy, clock=clock, worker="w1")
    await desk.ticket("Acme", tier="premium")
    result = await desk.tick(hours=4)
    assert result.retried >= 1 and result.sent == 0
    waiting = await outbox_rows(db)
    assert waiting and {(r.status, r.last_error) for r in waiting} == {
        (OutboxStatus.PENDING, "console is off on this server")
    }


async def test_a_sweeper_that_dies_after_claiming_loses_nothing(
    desk: Desk, db: Database, clock: Clock, policy: NudgeSettings
) -> None:
    """Claiming hands each message to the outbox in the claim's own transaction: a sweeper that dies right after
    leaves nothing in memory only, and any other sender delivers it (no lease to wait out)."""
    await desk.ticket("Acme", tier="premium")
    await desk.ticket("Globex", tier="premium", owner="U2")
    clock.advance(hours=4)
    doomed = NudgeSweeper(db.sessions, {Platform.CONSOLE: desk.inbox}, policy=policy, clock=clock, worker="doomed")
    await doomed.plan(clock.now)
    claimed, _, _ = await doomed.claim(clock.now)  # ...and then it dies before sending
    assert len(claimed) >= 2 and len(await outbox_rows(db)) == len(claimed)
    survivor = NudgeSweeper(db.sessions, {Platform.CONSOLE: desk.inbox}, policy=policy, clock=clock, worker="survivor")
    result = await survivor.tick()
    assert result.sent == len(claimed)
    assert len(desk.got("U1", "no update")) == 1 and len(desk.got("U2", "no update")) == 1
    assert (await survivor.tick()).sent == 0  # once
    async with db.sessions() as session, session.begin():  # the dead sweeper's late word changes nothing
        assert (
            await mark_sent(
                session,
                ids=claimed[0][0].ids,
                worker="doomed",
                now=clock.now,
                platform="console",
                channel="x",
                message_id="late",
            )
            == 0
        )
    async with db.sessions() as session:
        rows = (await session.execute(select(NudgeDelivery).where(NudgeDelivery.id.in_(claimed[0][0].ids)))).scalars()
        assert {(r.status, r.message_id != "late") for r in rows} == {(DeliveryStatus.SENT, True)}


async def test_concurrent_sweepers_in_one_process_send_each_nudge_once(
    desk: Desk, db: Database, clock: Clock, policy: NudgeSettings
) -> None:
    for index in range(12):
        await desk.ticket(f"Customer {index}", tier="premium", owner=("U1", "U2", "U3")[index % 3])
    clock.advance(hours=4)
    sweepers = [
        NudgeSweeper(db.sessions, {Platform.CONSOLE: desk.inbox}, policy=policy, clock=clock, worker=f"s{i}")
        for i in range(6)
    ]
    results = await asyncio.gather(*(s.tick() for s in sweepers))
    sent_ids = Counter(
        b["value"]
        for u in ("U1", "U2", "U3")
        for r in desk.got(u, "no update")
        for b in r["reply"]["buttons"]
        if b["label"] == "Done"
    )
    assert len(sent_ids) == 12 and set(sent_ids.values()) == {1}
    assert sum(r.sent for r in results) >= 12


async def test_recording_hand_overs_only_touches_rows_this_sweeper_still_holds(
    desk: Desk, db: Database, clock: Clock, policy: NudgeSettings
) -> None:
    """mark_handed_over's fence: a sweeper whose rows were taken over (its lease ran out) records nothing."""
    for name in ("Acme", "Globex", "Initech"):
        await desk.ticket(name, tier="premium")
    clock.advance(hours=4)
    first = NudgeSweeper(db.sessions, {Platform.CONSOLE: desk.inbox}, policy=policy, clock=clock, worker="first")
    await first.plan(clock.now)
    claimed, _, _ = await first.claim(clock.now)
    ids = [i for message, _ in claimed for i in message.ids]
    assert ids
    async with db.sessions() as session, session.begin():  # its lease ran out and "second" took the rows over
        await session.execute(
            update(NudgeDelivery)
            .where(NudgeDelivery.id.in_(ids))
            .values(status=DeliveryStatus.SENDING, claimed_by="second", message_id=None)
        )
    late = [Handed(ids=message.ids, platform="console", channel="c", message_id="late") for message, _ in claimed]
    async with db.sessions() as session, session.begin():
        await mark_handed_over(session, late, worker="first", now=clock.now)
    async with db.sessions() as session:
        rows = list((await session.execute(select(NudgeDelivery).where(NudgeDelivery.id.in_(ids)))).scalars())
    assert {(r.status, r.claimed_by, r.message_id) for r in rows} == {(DeliveryStatus.SENDING, "second", None)}

    mine = [Handed(ids=message.ids, platform="console", channel="c", message_id="m") for message, _ in claimed]
    async with db.sessions() as session, session.begin():
        await mark_handed_over(session, mine, worker="second", now=clock.now)
    async with db.sessions() as session:
        rows = list((await session.execute(select(NudgeDelivery).where(NudgeDelivery.id.in_(ids)))).scalars())
    firsts = {message.ids[0] for message, _ in claimed}
    assert {r.status for r in rows if r.id in firsts} == {DeliveryStatus.SENT}
    assert {r.status for r in rows if r.id not in firsts} <= {DeliveryStatus.BUNDLED}
