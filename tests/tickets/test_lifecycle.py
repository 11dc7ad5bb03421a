"""Tickets through the command layer, on SQLite and PostgreSQL, with time travel for the service levels."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select

from db.models import CustomerIdea, Mood, Priority, Ticket, TicketEvent, TicketEventKind, TicketStatus

from ..conftest import Chat, Clock, Database
from .conftest import count, ticket


async def kinds(db: Database, ticket_id: int) -> list[TicketEventKind]:
    async with db.sessions() as session:
        rows = await session.execute(
            select(TicketEvent.kind).where(TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.id)
        )
        return list(rows.scalars())


async def test_lifecycle_with_service_levels(chat: Chat, db: Database, clock: Clock) -> None:
    await chat.say("U_LEAD", 'customer add "Acme Corp" --tier premium')
    await chat.say("U1", 'claim "acme corp"')
    opened_at = clock.advance(minutes=5)
    opened = await chat.say("U2", 'ticket open "Acme Corp" Login page returns 500 --priority high')
    assert not opened.error, opened.text
    assert "Opened #1 for Acme Corp: Login page returns 500" in opened.text and not opened.ephemeral
    assert ("Owner", "<@U1>") in opened.fields
    assert [n.to_user_id for n in opened.notices] == ["U1"]  # the customer's owner hears about it
    t = await ticket(db, 1)
    assert (t.owner_id is not None, t.priority, t.status, t.opened_at) == (
        True,
        Priority.HIGH,
        TicketStatus.OPEN,
        opened_at,
    )
    assert t.first_response_at is None

    clock.advance(minutes=30)
    first = await chat.say("U1", "ticket note #1 Looking into it, can you send a HAR file?")
    assert "First response recorded" in first.text
    clock.advance(minutes=10)
    second = await chat.say("U1", "ticket note 1 still digging")
    assert "First response" not in second.text
    t = await ticket(db, 1)
    assert t.first_response_at == opened_at + timedelta(minutes=30)
    assert t.last_activity_at == opened_at + timedelta(minutes=40)

    pending_at = clock.advance(minutes=20)
    paused = await chat.say("U1", "ticket pending 1")
    assert "pending" in paused.text and not paused.error
    t = await ticket(db, 1)
    assert (t.status, t.pending_since) == (TicketStatus.PENDING, pending_at)

    clock.advance(hours=2)
    wrote = await chat.say("U1", "ticket note 1 --from-customer This is useless, we are furious, still broken!")
    assert not wrote.error, wrote.text
    assert [n.to_user_id for n in wrote.notices] == []  # U1 typed it and owns the ticket: nobody else to tell
    assert dict(wrote.fields)["Status"].startswith("open again")
    t = await ticket(db, 1)
    assert t.status == TicketStatus.OPEN and t.pending_since is None and t.pending_seconds == 2 * 3600
    assert t.mood == Mood.UNHAPPY
    assert (
        "furious" in (t.mood_reason or "")
        and "useless" in (t.mood_reason or "")
        and "scored -0." in (t.mood_reason or "")
    )
    assert t.first_response_at == opened_at + timedelta(minutes=30)  # a customer message is not a response

    override = await chat.say("U1", "ticket mood 1 neutral")
    assert "#1 is marked neutral" in override.text
    assert (await ticket(db, 1)).mood == Mood.NEUTRAL

    resolved_at = clock.advance(minutes=30)
    done = await chat.say("U1", "ticket resolve #1")
    assert "#1 is resolved" in done.text
    t = await ticket(db, 1)
    assert (t.status, t.resolved_at) == (TicketStatus.RESOLVED, resolved_at)

    rated = await chat.say("U2", "ticket csat 1 bad took far too long")
    assert "marked unhappy" in rated.text and [n.to_user_id for n in rated.notices] == ["U1"]
    t = await ticket(db, 1)
    assert (t.status, t.csat, t.mood) == (TicketStatus.RESOLVED, "bad", Mood.UNHAPPY)
    assert t.mood_reason == "bad satisfaction rating: took far too long"

    clock.advance(hours=1)
    shown = await chat.say("U3", "ticket show 1")
    fields = dict(shown.fields[:12])
    assert shown.text == "#1 Login page returns 500"
    assert fields["Status"] == "resolved" and fields["Owner"] == "<@U1>" and fields["CSAT"] == "bad"
    assert fields["First response"] == "30m"
    assert fields["Time pending"] == "2h 00m"
    # opened 10:05, resolved 13:35 = 3h30m, minus 2h pending
    assert fields["Resolution"] == "1h 30m"
    assert fields["Since last activity"] == "1h 00m"
    timeline = [value for _, value in shown.fields[12:]]
    assert timeline[0].startswith("opened by u2: Login page returns 500")
    assert any("u1: open → pending" in line for line in timeline)
    assert any(line.startswith("customer wrote (tone -0.") for line in timeline)
    assert any("pending → open (the customer wrote back)" in line for line in timeline)
    assert timeline[-1].startswith("mood unhappy: bad satisfaction rating")
    assert await kinds(db, 1) == [
        TicketEventKind.OPENED,
        TicketEventKind.NOTE,
        TicketEventKind.NOTE,
        TicketEventKind.PENDING,
        TicketEventKind.CUSTOMER_MESSAGE,
        TicketEventKind.REOPENED,
        TicketEventKind.MOOD,
        TicketEventKind.MOOD,
        TicketEventKind.RESOLVED,
        TicketEventKind.CSAT,
        TicketEventKind.MOOD,
    ]


async def test_pending_clock_adds_up_and_resolving_from_pending_stops_it(
    chat: Chat, db: Database, clock: Clock
) -> None:
    await chat.say("U_LEAD", "customer add Globex")
    await chat.say("U1", "claim globex")
    await chat.say("U1", "ticket open globex Invoice shows the wrong VAT rate")
    clock.advance(minutes=15)
    await chat.say("U1", "ticket pending 1")
    clock.advance(hours=1)
    await chat.say("U1", "ticket reopen 1")
    clock.advance(minutes=5)
    await chat.say("U1", "ticket pending 1")
    clock.advance(minutes=45)
    shown = await chat.say("U1", "ticket show 1")
    assert dict(shown.fields)["Time pending"] == "1h 45m"  # a pause still running counts
    await chat.say("U1", "ticket resolve 1")
    t = await ticket(db, 1)
    assert t.pending_seconds == 105 * 60 and t.pending_since is None and t.status == TicketStatus.RESOLVED
    # a customer writing on a resolved ticket opens it again; an agent note does not
    clock.advance(hours=3)
    again = await chat.say("U1", "ticket note 1 --from-customer Thanks, but the credit note is missing")
    assert not again.error and (await ticket(db, 1)).status == TicketStatus.OPEN
    assert (await ticket(db, 1)).resolved_at is None
    assert (await ticket(db, 1)).mood == Mood.NEUTRAL  # not clearly negative: mood untouched


async def test_unowned_customer_ticket_is_flagged_to_the_team(chat: Chat, db: Database, clock: Clock) -> None:
    await chat.say("U_LEAD", "customer add Initech")
    opened = await chat.say("U2", "ticket open initech TPS report export is empty --priority urgent")
    assert not opened.error, opened.text
    assert "flagged to the team" in opened.text and "`claim Initech`" in opened.text
    assert [n.to_user_id for n in opened.notices] == ["U_LEAD"]
    assert "Nobody owns Initech" in opened.notices[0].reply.text
    t = await ticket(db, 1)
    assert t.owner_id is None and t.priority == Priority.URGENT
    assert await count(db, TicketEvent, TicketEvent.kind == TicketEventKind.FLAGGED_UNOWNED) == 1
    # claiming the customer brings its open ticket along (the ownership core moves active tickets)
    await chat.say("U3", "claim initech")
    mine = await chat.say("U3", "tickets")
    assert mine.text == "You have 1 open or pending ticket(s)"
    assert mine.fields[0][0] == "#1 Initech" and "[open, urgent] owner u3" in mine.fields[0][1]
    shown = await chat.say("U3", "ticket show 1")
    assert any("flagged to the team" in value for _, value in shown.fields)


async def test_listing_mine_and_a_customers(chat: Chat, db: Database, clock: Clock) -> None:
    for name in ("Acme", "Hooli"):
        await chat.say("U_LEAD", f"customer add {name}")
    await chat.say("U1", "claim acme")
    await chat.say("U2", "claim hooli")
    await chat.say("U1", "ticket open acme First")
    clock.advance(minutes=1)
    await chat.say("U1", "ticket open acme Second")
    await chat.say("U2", "ticket open hooli Third")
    await chat.say("U1", "ticket resolve 1")
    mine = await chat.say("U1", "tickets")
    assert [label for label, _ in mine.fields] == ["#2 Acme"]
    acme = await chat.say("U3", "tickets acme")
    assert acme.text == "Acme: 2 ticket(s) not closed"
    assert {label for label, _ in acme.fields} == {"#1 Acme", "#2 Acme"}
    assert "[resolved, normal]" in dict(acme.fields)["#1 Acme"]
    assert (await chat.say("U3", "tickets")).text == "You have no open tickets."


async def test_refusals_write_nothing(chat: Chat, db: Database, clock: Clock) -> None:
    await chat.say("U_LEAD", "customer add Umbrella")
    await chat.say("U1", "claim umbrella")
    await chat.say("U1", "ticket open umbrella Reports are slow")
    await chat.say("U1", "ticket resolve 1")
    before = (await count(db, Ticket), await count(db, TicketEvent), await count(db, CustomerIdea))
    snapshot = await ticket(db, 1)
    cases = {
        "ticket open umbrela Something": 'Did you mean "Umbrella"',
        "ticket open umbrella": "Usage: `ticket open",
        "ticket open umbrella Broken --priority asap": '"asap" is not a priority',
        "ticket open umbrella Broken --priority": "--priority needs a value",
        "ticket open umbrella " + "x" * 400: "keep it under 300",
        "ticket note 99 hello": "no ticket #99",
        "ticket note abc hello": '"abc" is not a ticket number',
        "ticket note 1": "Usage: `ticket note",
        "ticket note 1 hi --from-custmer": "Unknown option --from-custmer",
        "ticket resolve 1": "already resolved",
        "ticket pending 1": "reopen 1` first",
        "ticket mood 1 furious": '"furious" is not a mood',
        "ticket csat 1 meh": '"meh" is not a rating',
        "ticket csat 1": "Usage: `ticket csat",
        "ticket frob 1": "Usage: `ticket open",
        "ticket": "Usage: `ticket open",
        "idea umbrella": "Usage: `idea",
        "idea nobody-here great idea": 'I don\'t know a customer called "nobody-here"',
        "ideas --since forever": '"forever" is not a period',
        "ideas --sinse 30d": "Unknown option --sinse",
    }
    for text, expected in cases.items():
        reply = await chat.say("U1", text)
        assert reply.error, text
        assert expected in reply.text, (text, reply.text)
    assert (await count(db, Ticket), await count(db, TicketEvent), await count(db, CustomerIdea)) == before
    after = await ticket(db, 1)
    assert (after.status, after.mood, after.csat, after.last_activity_at) == (
        snapshot.status,
        snapshot.mood,
        snapshot.csat,
        snapshot.last_activity_at,
    )


async def test_a_ticket_from_another_workspace_is_not_found(chat: Chat, db: Database, clock: Clock) -> None:
    await chat.say("U_LEAD", "customer add Acme")
    await chat.say("U1", "ticket open acme Secret stuff")
    other = Chat(chat.handlers, workspace="T2")
    await other.say("U9", "mine")
    events = await count(db, TicketEvent)
    for text in (
        "ticket show 1",
        "ticket note 1 peeking",
        "ticket resolve 1",
        "ticket csat 1 bad",
        "ticket mood 1 happy",
        "ticket note 1 --from-customer you are all terrible",
    ):
        reply = await other.say("U9", text)
        assert reply.error and "There is no ticket #1 here" in reply.text, (text, reply.text)
    assert await count(db, TicketEvent) == events
    t = await ticket(db, 1)
    assert (t.status, t.mood, t.csat) == (TicketStatus.OPEN, Mood.NEUTRAL, None)


async def test_good_csat_marks_happy(chat: Chat, db: Database) -> None:
    await chat.say("U_LEAD", "customer add Acme")
    await chat.say("U1", "claim acme")
    await chat.say("U1", "ticket open acme Export")
    await chat.say("U1", "ticket note 1 --from-customer this is ridiculous, nothing works and I'm angry")
    assert (await ticket(db, 1)).mood == Mood.UNHAPPY
    await chat.say("U1", "ticket resolve 1")
    rated = await chat.say("U1", "ticket csat 1 good thanks for the quick fix")
    assert rated.text == "Good rating recorded on #1."
    t = await ticket(db, 1)
    assert (t.csat, t.mood, t.mood_reason) == ("good", Mood.HAPPY, "good satisfaction rating: thanks for the quick fix")


async def test_ideas_per_customer_and_period(chat: Chat, db: Database, clock: Clock) -> None:
    for name in ("Acme", "Hooli"):
        await chat.say("U_LEAD", f"customer add {name}")
    recorded = await chat.say("U1", "idea acme Let us export reports as PDF")
    assert recorded.text == "Recorded Acme's idea: Let us export reports as PDF"
    clock.advance(days=40)
    await chat.say("U2", "idea hooli Dark mode for the dashboard")
    await chat.say("U1", 'idea acme "Slack" alerts when an import fails')
    recent = await chat.say("U_LEAD", "ideas --since 30d")
    assert recent.text.startswith("2 idea(s) since")
    assert {label.rsplit(" ", 1)[1] for label, _ in recent.fields} == {"Acme", "Hooli"}
    acme = await chat.say("U_LEAD", "ideas acme")
    assert acme.text == "2 idea(s) from Acme"
    assert [value for _, value in acme.fields] == [
        "Slack alerts when an import fails (by u1)",
        "Let us export reports as PDF (by u1)",
    ]
    none = await chat.say("U_LEAD", "ideas hooli --since 12h")
    assert none.text.startswith("1 idea(s) from Hooli since")
    assert await count(db, CustomerIdea) == 3


async def test_concurrent_status_changes_and_first_notes_have_one_winner(
    chat: Chat, db: Database, clock: Clock
) -> None:
    await chat.say("U_LEAD", "customer add Acme")
    await chat.say("U1", "claim acme")
    await chat.say("U1", "ticket open acme Racing")
    users = ["U1", "U2", "U3", "U_LEAD"] * 3
    replies = await asyncio.gather(*(chat.say(user, "ticket pending 1") for user in users))
    assert sum(not r.error for r in replies) == 1, [r.text for r in replies]
    assert all("already pending" in r.text for r in replies if r.error)
    assert await count(db, TicketEvent, TicketEvent.kind == TicketEventKind.PENDING) == 1
    await chat.say("U1", "ticket reopen 1")
    replies = await asyncio.gather(*(chat.say(user, f"ticket note 1 answer from {user}") for user in users))
    assert sum("First response recorded" in r.text for r in replies) == 1, [r.text for r in replies]
    assert await count(db, TicketEvent, TicketEvent.kind == TicketEventKind.NOTE) == len(users)
