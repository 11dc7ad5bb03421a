"""Nudge fixtures: the real sweeper over the real database, delivering into a ConsoleNotifier inbox."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.console import ConsoleNotifier
from db.models import (
    Customer,
    Member,
    NudgeDelivery,
    NudgeEpisode,
    NudgeKind,
    Platform,
    Priority,
    Ticket,
    TicketStatus,
    Tier,
)
from jobs.nudge_sweep import NudgeSweeper, TickResult
from nudges.settings import NudgeSettings

from ..conftest import Chat, Clock, Database


@pytest.fixture
def policy() -> NudgeSettings:
    return NudgeSettings(daily_cap=50)


@pytest.fixture
def inbox(tmp_path: Path) -> ConsoleNotifier:
    return ConsoleNotifier(tmp_path / "inbox")


@pytest.fixture
def sweeper(db: Database, clock: Clock, inbox: ConsoleNotifier, policy: NudgeSettings) -> NudgeSweeper:
    return NudgeSweeper(db.sessions, {Platform.CONSOLE: inbox}, policy=policy, clock=clock, worker="test-sweeper")


def is_notice(record: dict[str, Any]) -> bool:
    """A notice a command sent (a handoff offer or its outcome, a step-out, a cover arranged …), not a nudge: the
    console inbox records what the outbox sent it as."""
    return bool(record.get("purpose") == "notice")


@dataclass
class Desk:
    """Sets the scene through the ORM (tickets belong to the tickets feature) and reads what people got."""

    db: Database
    chat: Chat
    clock: Clock
    inbox: ConsoleNotifier
    sweeper: NudgeSweeper

    async def member(self, user: str) -> Member:
        async with self.db.sessions() as session:
            return (await session.execute(select(Member).where(Member.platform_user_id == user))).scalar_one()

    async def customer(self, name: str, *, tier: str = "standard", owner: str | None = None) -> int:
        reply = await self.chat.say("U_LEAD", f'customer add "{name}" --tier {tier}')
        assert not reply.error, reply.text
        if owner:
            claimed = await self.chat.say(owner, f'claim "{name}"')
            assert not claimed.error, claimed.text
        async with self.db.sessions() as session:
            return (await session.execute(select(Customer.id).where(Customer.name == name))).scalar_one()

    async def ticket(
        self,
        customer: str,
        *,
        owner: str | None = "U1",
        tier: str = "standard",
        priority: Priority = Priority.NORMAL,
        opened_at: datetime | None = None,
        responded: bool = True,
        subject: str = "Export times out",
        **extra: Any,
    ) -> int:
        async with self.db.sessions() as session:
            found = (await session.execute(select(Customer).where(Customer.name == customer))).scalar_one_or_none()
        if found is None:
            await self.customer(customer, tier=tier, owner=owner)
        async with self.db.sessions() as session, session.begin():
            cust = (await session.execute(select(Customer).where(Customer.name == customer))).scalar_one()
            owner_id = cust.owner_id
            opened = opened_at or self.clock.now
            ticket = Ticket(
                workspace_id=cust.workspace_id,
                customer_id=cust.id,
                subject=subject,
                priority=priority,
                status=TicketStatus.OPEN,
                owner_id=owner_id,
                opened_at=opened,
                last_activity_at=opened,
                first_response_at=opened if responded else None,
                pending_seconds=0,
                reassign_count=0,
            )
            for key, value in extra.items():
                setattr(ticket, key, value)
            session.add(ticket)
            await session.flush()
            return ticket.id

    async def update_ticket(self, ticket_id: int, **values: Any) -> None:
        async with self.db.sessions() as session, session.begin():
            ticket = await session.get(Ticket, ticket_id)
            assert ticket is not None
            for key, value in values.items():
                setattr(ticket, key, value)

    async def tick(self, **advance: float) -> TickResult:
        if advance:
            self.clock.advance(**advance)
        return await self.sweeper.tick()

    def got(self, user: str, kind: str | None = None) -> list[dict[str, Any]]:
        """What a person received, optionally only nudges whose text mentions `kind`'s headline words."""
        records = [r for r in self.inbox.read(f"user-{user}") if r["kind"] == "direct"]
        if kind is None:
            return records
        return [r for r in records if kind in r["reply"]["text"]]

    def nudges(self, user: str) -> list[dict[str, Any]]:
        """Everything but the lead's daily digest and the notices commands sent (a handoff offer, its outcome):
        those go through the same outbox, so a tick delivers them too."""
        return [r for r in self.got(user) if "digest" not in r["reply"]["text"] and not is_notice(r)]

    async def first_step(self, ticket_id: int, kind: NudgeKind = NudgeKind.STALE) -> tuple[str, str]:
        """Who the latest episode of this kind on this ticket went to first: (platform user id, audience)."""
        async with self.db.sessions() as session:
            row = (
                await session.execute(
                    select(Member.platform_user_id, NudgeDelivery.audience)
                    .join(NudgeEpisode, NudgeEpisode.id == NudgeDelivery.episode_id)
                    .join(Member, Member.id == NudgeDelivery.recipient_id)
                    .where(NudgeEpisode.ticket_id == ticket_id, NudgeEpisode.kind == kind, NudgeDelivery.step == 0)
                    .order_by(NudgeEpisode.id.desc(), NudgeDelivery.id.desc())
                    .limit(1)
                )
            ).one()
            return row[0], row[1]

    async def deliveries(self) -> list[NudgeDelivery]:
        async with self.db.sessions() as session:
            return list((await session.execute(select(NudgeDelivery).order_by(NudgeDelivery.id))).scalars())


def button(record: dict[str, Any], label: str) -> tuple[str, str]:
    for b in record["reply"]["buttons"]:
        if b["label"] == label:
            return b["action_id"], b["value"]
    raise AssertionError(f"no {label!r} button in {[b['label'] for b in record['reply']['buttons']]}")


def fields(record: dict[str, Any]) -> dict[str, str]:
    return dict(record["reply"]["fields"])


@pytest.fixture
async def desk(db: Database, chat: Chat, clock: Clock, inbox: ConsoleNotifier, sweeper: NudgeSweeper) -> Desk:
    return Desk(db, chat, clock, inbox, sweeper)


def at(clock: Clock, day: int, hour: int, minute: int = 0) -> datetime:
    """Move the clock to a given day of November 2026 (the 23rd is a Monday) and time, UTC."""
    clock.now = clock.now.replace(day=day, hour=hour, minute=minute, second=0)
    return clock.now


__all__ = ["Desk", "Tier", "at", "button", "fields", "timedelta"]
