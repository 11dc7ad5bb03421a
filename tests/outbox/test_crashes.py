"""Real server processes killed at the worst moments: between the commit and the send, and between the
platform taking a message and ownerbot marking it sent. A new process delivers what was owed: nothing is lost,
and the one message in flight repeats at most once (the documented window, db/outbox.py)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from sqlalchemy import select

from db.models import HandoffRequest, OutboxMessage, OutboxStatus

from ..conftest import Database
from ..slack.conftest import text_of
from .conftest import Server, TrappingSlack

OFFER = "<@U1> wants to hand Acme over to you."


async def offer_handed_over(server: Server) -> None:
    for user in ("U_ADMIN", "U_LEAD", "U1", "U2"):
        await server.command(user, "/mine")
    await server.command("U_ADMIN", "/ownerbot", "role <@U_LEAD|lee> lead")
    assert "Added" in text_of((await server.command("U_LEAD", "/ownerbot", 'customer add "Acme"'))[0])
    await server.command("U1", "/claim", "acme")
    [answer] = await server.command("U1", "/handoff", "acme <@U2|sam> they speak German with the customer")
    assert "Handoff of Acme to <@U2> requested." in text_of(answer)  # committed, and answered at once


def offers(fake: TrappingSlack) -> list[str]:
    return [text_of(c) for c in fake.dms_to("U2") if OFFER in text_of(c)]


async def wait_for(check, seconds: float = 45) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not check() and time.monotonic() < deadline:
        await asyncio.sleep(0.1)


async def the_offer_row(db: Database) -> OutboxMessage:
    async with db.sessions() as session:
        [row] = (await session.execute(select(OutboxMessage).where(OutboxMessage.target == "U2"))).scalars().all()
        return row


async def test_sigkill_between_commit_and_send_loses_nothing(
    db: Database, trapping_slack: TrappingSlack, tmp_path: Path
) -> None:
    fake = trapping_slack
    fake.trap("DU2", before=True)  # the offer's DM hangs before Slack takes it
    first = Server(db, fake, tmp_path)
    try:
        await first.ready()
        await offer_handed_over(first)
        await asyncio.wait_for(fake.sprung.wait(), 30)
        first.kill()  # committed, claimed, never sent
    finally:
        first.stop()
    assert offers(fake) == []
    async with db.sessions() as session:
        assert len((await session.execute(select(HandoffRequest))).scalars().all()) == 1
    assert (await the_offer_row(db)).status == OutboxStatus.SENDING  # held by the dead process's lease

    second = Server(db, fake, tmp_path)  # a new process: its ticker finds the offer once the lease ran out
    try:
        await second.ready()
        await wait_for(lambda: offers(fake))
        await asyncio.sleep(2.5)  # a few more ticks: still once
    finally:
        second.stop()
    assert len(offers(fake)) == 1
    assert (await the_offer_row(db)).status == OutboxStatus.SENT


async def test_killed_after_slack_took_it_repeats_that_message_at_most_once(
    db: Database, trapping_slack: TrappingSlack, tmp_path: Path
) -> None:
    fake = trapping_slack
    fake.trap("DU2", before=False)  # Slack takes the offer, and the answer never reaches ownerbot
    first = Server(db, fake, tmp_path)
    try:
        await first.ready()
        await offer_handed_over(first)
        await asyncio.wait_for(fake.sprung.wait(), 30)
        first.kill()  # between the platform's answer and "marked sent"
    finally:
        first.stop()
    assert len(offers(fake)) == 1

    second = Server(db, fake, tmp_path)
    try:
        await second.ready()
        await wait_for(lambda: len(offers(fake)) >= 2)
        await asyncio.sleep(2.5)
    finally:
        second.stop()
    assert len(offers(fake)) == 2  # the one message in flight, once more: never a third time
    row = await the_offer_row(db)
    assert row.status == OutboxStatus.SENT and row.attempts == 2
