"""The ownership story through the command layer, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import func, select

from db.models import Customer, EventKind, HandoffRequest, Member, OwnershipEvent
from handlers import ActionId

from .conftest import Chat, Clock, Database


async def owner_of(db: Database, name: str) -> str | None:
    async with db.sessions() as session:
        row = await session.execute(
            select(Member.platform_user_id).join(Customer, Customer.owner_id == Member.id).where(Customer.name == name)
        )
        return row.scalar_one_or_none()


async def count(db: Database, model: type) -> int:
    async with db.sessions() as session:
        return await session.scalar(select(func.count()).select_from(model)) or 0


async def test_claim_handoff_accept_and_history(chat: Chat, db: Database, clock: Clock) -> None:
    added = await chat.say("U_LEAD", 'customer add "Acme Corp" --tier premium --external-id crm-1')
    assert not added.error, added.text
    claimed = await chat.say("U1", 'claim "acme corp"')
    assert "<@U1> now owns Acme Corp" in claimed.text and not claimed.ephemeral
    clock.advance(hours=1)

    offer = await chat.say("U1", 'handoff "Acme Corp" <@U2> customer needs a German speaker')
    assert not offer.error, offer.text
    assert offer.notices[0].to_user_id == "U2"
    buttons = {b.action_id: b.value for b in offer.notices[0].reply.buttons}
    assert set(buttons) == {ActionId.ACCEPT_HANDOFF, ActionId.DECLINE_HANDOFF}
    assert await owner_of(db, "Acme Corp") == "U1"  # warm: the old owner owns until accepted

    clock.advance(minutes=5)
    accepted = await chat.click("U2", ActionId.ACCEPT_HANDOFF, buttons[ActionId.ACCEPT_HANDOFF])
    assert accepted.replace_original and "You now own Acme Corp" in accepted.text
    assert [n.to_user_id for n in accepted.notices] == ["U1"]
    assert await owner_of(db, "Acme Corp") == "U2"

    again = await chat.click("U2", ActionId.ACCEPT_HANDOFF, buttons[ActionId.ACCEPT_HANDOFF])
    assert again.error and "already accepted" in again.text

    history = await chat.say("U3", "history crm-1")
    lines = [value for _, value in history.fields]
    assert len(lines) == 3
    assert "claimed by u1" in lines[0]
    assert "u1 offered it to u2: customer needs a German speaker" in lines[1]
    assert "u2 accepted it from u1" in lines[2]

    who = await chat.say("U3", "whoowns acme corp")
    assert who.text == "<@U2> owns Acme Corp." and ("Re-assigns", "1") in who.fields


async def test_decline_keeps_owner_and_needs_reason(chat: Chat, db: Database) -> None:
    await chat.say("U_LEAD", "customer add Globex")
    await chat.say("U1", "claim globex")
    offer = await chat.say("U1", "handoff globex U2 moving to the billing queue")
    handoff_id = offer.notices[0].reply.buttons[1].value

    prompt = await chat.click("U2", ActionId.DECLINE_HANDOFF, handoff_id)
    assert prompt.prompt is not None and prompt.prompt.submit_action_id == ActionId.DECLINE_REASON
    short = await chat.click("U2", ActionId.DECLINE_REASON, handoff_id, "no")
    assert short.error and "reason" in short.text

    declined = await chat.click("U2", ActionId.DECLINE_REASON, handoff_id, "I am out all next week")
    assert not declined.error and declined.notices[0].to_user_id == "U1"
    assert "I am out all next week" in declined.notices[0].reply.plain_text()
    assert await owner_of(db, "Globex") == "U1"
    kinds = await count(db, OwnershipEvent)
    assert kinds == 3  # claim, requested, declined


async def test_refusals_write_nothing(chat: Chat, db: Database) -> None:
    await chat.say("U_LEAD", "customer add Initech")
    await chat.say("U1", "claim initech")
    before = (await count(db, OwnershipEvent), await count(db, HandoffRequest), await count(db, Customer))
    cases = {
        "claim initech": "already owned by u1",
        "claim initek": 'Did you mean "Initech"',
        "handoff initech U2": "needs a reason",
        "handoff initech U2 short": "at least 10 characters",
        "handoff initech U9 a perfectly good reason": 'anyone called "U9"',
        'claim "initech': "quote was left open",
        "release initech " + "x" * 10_000: "characters long",
        "customer add Hooli": "Only leads and admins",
        "reassign initech U3 because the lead says so": "Only leads and admins",
        "role U3 admin": "Only admins",
        "frobnicate": "don't know the command",
        "customer tier initech platinum": "not a tier",
    }
    for text, expected in cases.items():
        user = "U1" if "release" in text else "U2"
        reply = await chat.say(user, text)
        assert reply.error, text
        assert expected in reply.text, (text, reply.text)
    assert (await count(db, OwnershipEvent), await count(db, HandoffRequest), await count(db, Customer)) == before
    assert await owner_of(db, "Initech") == "U1"


async def test_release_and_lead_reassign_count_as_reassigns(chat: Chat, db: Database) -> None:
    await chat.say("U_LEAD", "customer add Umbrella")
    await chat.say("U1", "claim umbrella")
    assert not (await chat.say("U1", "release umbrella going on parental leave")).error
    assert await owner_of(db, "Umbrella") is None
    await chat.say("U2", "claim umbrella")
    moved = await chat.say("U_LEAD", "reassign umbrella <@U3|u3> balancing the team's load")
    assert not moved.error, moved.text
    assert {n.to_user_id for n in moved.notices} == {"U3", "U2"}
    assert await owner_of(db, "Umbrella") == "U3"
    who = await chat.say("U1", "whoowns umbrella")
    assert ("Re-assigns", "2") in who.fields
    async with db.sessions() as session:
        kinds = list((await session.execute(select(OwnershipEvent.kind).order_by(OwnershipEvent.id))).scalars())
    assert kinds == [EventKind.CLAIM, EventKind.RELEASE, EventKind.CLAIM, EventKind.REASSIGN]


async def test_a_person_is_known_from_their_first_command_even_when_it_is_refused(chat: Chat, db: Database) -> None:
    await chat.say("U_LEAD", "customer add Acme Corp")
    await chat.say("U1", "claim acme corp")
    first = await chat.say("U7", "claim nobody-here", name="Noor Khan")  # never seen before, and refused
    assert first.error and "don't know a customer" in first.text
    typo = await chat.say("U8", 'whoowns "acme', name="Ola")  # refused before any command runs
    assert typo.error and "quote was left open" in typo.text
    button = await chat.click("U9", ActionId.ACCEPT_HANDOFF, "999")  # a stale button, refused too
    assert button.error

    offer = await chat.say("U1", "handoff Acme Corp Noor Khan she speaks German with their CTO")
    assert not offer.error, offer.text
    assert [n.to_user_id for n in offer.notices] == ["U7"]
    for person in ("@ola", "<@U9|u9>"):
        assert not (await chat.say("U_LEAD", f"reassign acme corp {person} balancing the team's load")).error
    async with db.sessions() as session:
        known = await session.execute(select(Member.platform_user_id, Member.display_name).order_by(Member.id))
        assert [tuple(row) for row in known if row[0] in ("U7", "U8", "U9")] == [
            ("U7", "Noor Khan"),
            ("U8", "Ola"),
            ("U9", "u9"),
        ]
