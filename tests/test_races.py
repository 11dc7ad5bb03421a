"""Concurrent claims and double clicks end with exactly one winner, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from db.models import Customer, EventKind, Member, OwnershipEvent, Ticket
from handlers import ActionId

from .conftest import Chat, Database

AGENTS = [f"A{i}" for i in range(16)]


async def test_many_agents_claim_one_customer_at_once(chat: Chat, db: Database) -> None:
    await chat.say("U_LEAD", "customer add Acme")
    for agent in AGENTS:  # everyone exists before the race, so the race is only about the claim
        await chat.say(agent, "mine")

    replies = await asyncio.gather(*(chat.say(agent, "claim acme") for agent in AGENTS))

    winners = [r for r in replies if "now owns Acme" in r.text]
    losers = [r for r in replies if r.error and "already owned by" in r.text]
    assert len(winners) == 1, [r.text for r in replies]
    assert len(losers) == len(AGENTS) - 1
    async with db.sessions() as session:
        owner = await session.scalar(
            select(Member.display_name).join(Customer, Customer.owner_id == Member.id).where(Customer.name == "Acme")
        )
        owner_id = await session.scalar(
            select(Member.platform_user_id)
            .join(Customer, Customer.owner_id == Member.id)
            .where(Customer.name == "Acme")
        )
        claims = await session.scalar(
            select(func.count()).select_from(OwnershipEvent).where(OwnershipEvent.kind == EventKind.CLAIM)
        )
    assert claims == 1
    assert winners[0].text.startswith(f"<@{owner_id}> now owns")
    assert all(owner in r.text for r in losers)


async def test_double_clicked_accept_applies_once(chat: Chat, db: Database) -> None:
    await chat.say("U_LEAD", "customer add Globex")
    await chat.say("U1", "claim globex")
    async with db.sessions() as session, session.begin():
        customer = (await session.execute(select(Customer).where(Customer.name == "Globex"))).scalar_one()
        owner_id = customer.owner_id
        session.add_all(
            Ticket(
                workspace_id=customer.workspace_id,
                customer_id=customer.id,
                subject=f"t{i}",
                owner_id=owner_id,
                opened_at=chat.handlers.clock(),
                last_activity_at=chat.handlers.clock(),
            )
            for i in range(3)
        )
    offer = await chat.say("U1", "handoff globex U2 they know the billing system well")
    handoff_id = offer.notices[0].reply.buttons[0].value

    clicks = await asyncio.gather(*(chat.click("U2", ActionId.ACCEPT_HANDOFF, handoff_id) for _ in range(8)))

    assert sum(1 for c in clicks if not c.error) == 1, [c.text for c in clicks]
    async with db.sessions() as session:
        accepted = await session.scalar(
            select(func.count()).select_from(OwnershipEvent).where(OwnershipEvent.kind == EventKind.HANDOFF_ACCEPTED)
        )
        counts = list((await session.execute(select(Ticket.reassign_count))).scalars())
    assert accepted == 1
    assert counts == [1, 1, 1]  # each open ticket moved once, counted once


async def test_a_claim_decides_on_the_database_not_on_what_it_was_handed(chat: Chat, db: Database) -> None:
    """Every contender loaded the customer (unowned) before anyone claimed it, as a slow replica or a form
    submitted later would, then all claim at once, each in its own transaction. A claim that reads the owner
    from the object it holds and then writes (read-then-write) lets every one of them win, even on SQLite where
    transactions are serialized; the claim must compare-and-set in the database. Exactly one wins."""
    from db.models import Platform
    from ownership.claims import claim_customer
    from ownership.errors import AlreadyOwned

    await chat.say("U_LEAD", "customer add Initech")
    for agent in AGENTS:
        await chat.say(agent, "mine")
    contenders = []
    for agent in AGENTS:  # each loads the customer and the agent, and its transaction ends
        session = db.sessions()
        async with session.begin():
            customer = (await session.execute(select(Customer).where(Customer.name == "Initech"))).scalar_one()
            actor = (await session.execute(select(Member).where(Member.platform_user_id == agent))).scalar_one()
        contenders.append((session, customer, actor))

    async def claim(session, customer, actor) -> bool:  # type: ignore[no-untyped-def]
        try:
            async with session.begin():
                await claim_customer(
                    session, actor=actor, customer=customer, platform=Platform.CONSOLE, now=chat.handlers.clock()
                )
            return True
        except AlreadyOwned:
            return False
        finally:
            await session.close()

    won = await asyncio.gather(*(claim(*contender) for contender in contenders))
    async with db.sessions() as session:
        claims = await session.scalar(
            select(func.count()).select_from(OwnershipEvent).where(OwnershipEvent.kind == EventKind.CLAIM)
        )
    assert sum(won) == 1 and claims == 1, (sum(won), claims)
