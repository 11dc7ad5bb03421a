"""Retention: the ticker prunes old webhook deliveries, Slack request/event ids, finished nudges and finished outbox
messages, in small batches, and keeps everything recent or still in use."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update

from db.models import (
    DeliveryStatus,
    Member,
    NudgeDelivery,
    NudgeEpisode,
    NudgeKind,
    OutboxMessage,
    OutboxStatus,
    SlackEvent,
    SubjectKind,
    WebhookDelivery,
    Workspace,
)
from jobs import Jobs
from jobs.retention import PRUNED, Retention

from .conftest import Chat, Clock, Database

KEEP = timedelta(days=90)


async def count(db: Database, model: type, *where: object) -> int:
    async with db.sessions() as session:
        return await session.scalar(select(func.count()).select_from(model).where(*where)) or 0  # type: ignore[arg-type]


async def seed_old_and_new(db: Database, chat: Chat, clock: Clock) -> None:
    now, old = clock.now, clock.now - KEEP - timedelta(days=1)
    for line in ("team create support --channel C-WOW", "team add support <@U1>"):
        assert not (await chat.say("U_ADMIN", line)).error
    assert not (await chat.say("U_LEAD", "customer add Acme")).error
    for gesture in ("a card", "a mug"):
        assert not (await chat.say("U1", f"wow acme {gesture} --cost 5")).error
    async with db.sessions() as session, session.begin():
        ws = (await session.execute(select(Workspace))).scalars().first()
        member = (await session.execute(select(Member))).scalars().first()
        assert ws is not None and member is not None
        session.add_all(
            WebhookDelivery(workspace_id=ws.id, source="zendesk", ref=f"old-{i}", updated="1", received_at=old)
            for i in range(1203)
        )
        session.add_all(
            WebhookDelivery(workspace_id=ws.id, source="zendesk", ref=f"new-{i}", updated="1", received_at=now)
            for i in range(5)
        )
        session.add_all(
            [
                SlackEvent(event_id="Ev-old", team_id="T1", event_type="message", received_at=now - timedelta(days=4)),
                SlackEvent(event_id="Ev-new", team_id="T1", event_type="message", received_at=now - timedelta(days=1)),
            ]
        )
        for label, done_at in (("done", old), ("open", None), ("done-recently", now)):
            episode = NudgeEpisode(
                workspace_id=ws.id,
                subject_kind=SubjectKind.TICKET,
                subject_id=1,
                kind=NudgeKind.STALE,
                episode=label,
                started_at=old,
                done_at=done_at,
            )
            session.add(episode)
            await session.flush()
            session.add(
                NudgeDelivery(
                    workspace_id=ws.id,
                    episode_id=episode.id,
                    kind=NudgeKind.STALE,
                    step=0,
                    recipient_id=member.id,
                    audience="owner",
                    status=DeliveryStatus.SENT,
                    planned_at=old,
                    due_at=old,
                    sent_at=old,
                )
            )
        # what the gesture commands owed (their cards) went out long ago; the first card has an update waiting
        await session.execute(update(OutboxMessage).values(status=OutboxStatus.SENT, sent_at=old, created_at=old))
        card = (await session.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars().first()
        assert card is not None
        session.add(
            OutboxMessage(
                key="update-waiting",
                platform=card.platform,
                workspace=card.workspace,
                direct=False,
                target=card.target,
                purpose=card.purpose,
                render=card.render,
                replaces_id=card.id,
                status=OutboxStatus.PENDING,
                due_at=old,
                created_at=old,
            )
        )


async def test_old_finished_rows_are_pruned_in_batches_and_the_rest_is_kept(
    db: Database, chat: Chat, clock: Clock
) -> None:
    await seed_old_and_new(db, chat, clock)
    messages = await count(db, OutboxMessage)
    retention = Retention(db.sessions, clock=clock, keep_for=KEEP, batch=500, max_batches=2)
    first = await retention.tick()
    assert first["webhook_deliveries"] == 1000  # two batches of 500 this tick: a backlog drains over ticks
    assert await count(db, WebhookDelivery) == 203 + 5
    second = await retention.tick()
    assert second["webhook_deliveries"] == 203 and await count(db, WebhookDelivery) == 5
    assert first["slack_events"] == 1 and [e for (e,) in await rows(db, SlackEvent.event_id)] == ["Ev-new"]
    # the nudge of the episode done long ago goes; an open episode's (the planner would re-plan it) and a
    # recently done one's stay
    assert first["nudge_deliveries"] == 1
    assert sorted(e for (e,) in await rows(db, NudgeEpisode.episode, join=True)) == ["done-recently", "open"]
    # old sent messages go; a sent card whose update still waits stays (the update needs its message id), and so
    # does the waiting update
    assert first["outbox_messages"] == messages - 2 >= 1
    async with db.sessions() as session:
        left = (await session.execute(select(OutboxMessage.key, OutboxMessage.status))).all()
    assert len(left) == 2 and ("update-waiting", OutboxStatus.PENDING) in left
    assert await retention.tick() == dict.fromkeys(first, 0)  # nothing left to do


async def rows(db: Database, column: object, *, join: bool = False) -> list[tuple[object, ...]]:
    async with db.sessions() as session:
        query = select(column)  # type: ignore[call-overload]
        if join:
            query = query.join(NudgeDelivery, NudgeDelivery.episode_id == NudgeEpisode.id)
        return [tuple(row) for row in (await session.execute(query)).all()]


def test_the_ticker_runs_retention_and_the_tables_are_one_line_each() -> None:
    assert [p.name for p in PRUNED] == ["webhook_deliveries", "slack_events", "nudge_deliveries", "outbox_messages"]
    assert "retention" in Jobs.__dataclass_fields__
