"""`handoff withdraw <customer>` and `wow withdraw <id>`, typed in the console."""

from __future__ import annotations

from sqlalchemy import select

from bot.console import ConsoleNotifier
from db.models import EventKind, GestureProposal, GestureStatus, HandoffRequest, HandoffStatus, OwnershipEvent

from ..conftest import Clock, Database
from .conftest import Console

TEAM = ["team create Support", "team add Support @Ana", "team add Support @Sam", "team add Support @Bob"]


async def test_the_offerer_withdraws_a_handoff_and_the_receiver_is_told(console: Console, db: Database) -> None:
    await console("U2", "Sam", [])
    await console("U3", "Bob", [])
    ana = await console(
        "U1",
        "Ana",
        ['customer add "Acme Corp" premium', "claim acme corp", "handoff Acme Corp @Sam she speaks German"],
    )
    assert "Handoff of Acme Corp to @Sam requested" in ana
    bob = await console("U3", "Bob", ["handoff withdraw acme corp"])
    assert "! Only whoever offered this handoff, or a lead, can withdraw it." in bob
    ana = await console("U1", "Ana", ["handoff withdraw Acme Corp", "history acme corp", "whoowns acme corp"])
    assert "Withdrew the handoff of Acme Corp to @Sam; @Ana still owns it." in ana
    assert "→ to U2: @Ana withdrew the handoff of Acme Corp to @Sam" in ana
    assert "Ana withdrew the offer to Sam: she speaks German (via console)" in ana
    assert "Ana owns Acme Corp." in ana
    sam = await console("U2", "Sam", ["accept", "/accept 1"])
    assert "📬 @Ana withdrew the handoff of Acme Corp to @Sam; there is nothing to answer." in sam
    assert "! No handoff is waiting for you." in sam
    assert "! This handoff was already withdrawn." in sam
    again = await console("U1", "Ana", ["handoff withdraw acme corp"])
    assert "! No handoff of Acme Corp is waiting for an answer" in again
    async with db.sessions() as session:
        handoff = (await session.execute(select(HandoffRequest))).scalar_one()
        kinds = list((await session.execute(select(OwnershipEvent.kind).order_by(OwnershipEvent.id))).scalars())
    assert handoff.status == HandoffStatus.WITHDRAWN
    assert kinds == [EventKind.CLAIM, EventKind.HANDOFF_REQUESTED, EventKind.HANDOFF_WITHDRAWN]


async def test_a_lead_withdraws_someone_elses_offer(console: Console, db: Database) -> None:
    await console("U2", "Sam", [])
    await console("U3", "Bob", [])
    await console("U1", "Ana", ["customer add Globex", "role @Bob lead"])
    sam = await console("U2", "Sam", ["claim globex", "handoff globex @Ana she knows their stack"])
    assert "Handoff of Globex to @Ana requested" in sam
    bob = await console("U3", "Bob", ["handoff withdraw globex"])
    assert "Withdrew the handoff of Globex to @Ana; @Sam still owns it." in bob
    assert "→ to U1:" in bob and "→ to U2:" in bob  # the receiver and the offerer hear of it


async def test_the_proposer_withdraws_a_gesture_voters_are_told_and_the_card_updates(
    console: Console, db: Database, inbox: ConsoleNotifier, clock: Clock
) -> None:
    await console("U2", "Sam", [])
    await console("U3", "Bob", [])
    ana = await console(
        "U1", "Ana", [*TEAM, "wow budget 100", "customer add Acme", "wow acme thank-you card --cost 20"]
    )
    assert "Proposed gesture #1 for Acme" in ana
    await console("U2", "Sam", ["wow vote 1 yes"])
    bob = await console("U3", "Bob", ["wow withdraw 1"])
    assert "! Only whoever proposed gesture #1, or Support's lead, can withdraw it." in bob
    ana = await console("U1", "Ana", ["wow withdraw 1", "wow budget"])
    assert "Withdrew gesture #1; its vote is closed and nothing is spent." in ana
    assert "Budget: 0.00 USD of 100.00 USD used" in ana and "Open votes: 0" in ana
    assert "→ to U2: @Ana withdrew gesture #1 (thank-you card) before the vote closed" in ana
    sam = await console("U2", "Sam", ["wow vote 1 no"])
    assert "📬 @Ana withdrew gesture #1 (thank-you card)" in sam
    assert "! Voting on gesture #1 has closed." in sam
    card = [r for r in inbox.read("channel-console") if r["kind"] == "update"][-1]["reply"]
    assert dict(map(tuple, card["fields"]))["Status"] == "withdrawn before the vote closed"
    assert card["buttons"] == []  # no more voting on the card
    async with db.sessions() as session:
        proposal = (await session.execute(select(GestureProposal))).scalar_one()
    assert proposal.status == GestureStatus.WITHDRAWN and proposal.approved_at is None
    clock.advance(days=2)  # the deadline passes: a withdrawn gesture is never closed nor spent
    late = await console("U1", "Ana", ["wow withdraw 1"])
    assert "! Voting on gesture #1 has closed, so it can no longer be withdrawn." in late
