"""Cover that returns, by time travel, on SQLite and PostgreSQL: an away owner's customers are looked after by
their cover, who gets the nudges; a handoff offered to them warns and names the cover; it all comes back."""

from __future__ import annotations

from sqlalchemy import func, select

from db.models import Custody, CustodyKind, CustodyStatus, EventKind, Member, OwnershipEvent, Ticket
from jobs.custody_returns import CustodyReturns

from ..nudges.conftest import Desk, fields


async def _open(desk: Desk) -> list[Custody]:
    async with desk.db.sessions() as session:
        rows = await session.execute(select(Custody).where(Custody.status == CustodyStatus.ACTIVE).order_by(Custody.id))
        return list(rows.scalars())


async def _kinds(desk: Desk) -> list[EventKind]:
    async with desk.db.sessions() as session:
        return list((await session.execute(select(OwnershipEvent.kind).order_by(OwnershipEvent.id))).scalars())


async def _reassign_count(desk: Desk) -> int:
    async with desk.db.sessions() as session:
        return int(await session.scalar(select(func.sum(Ticket.reassign_count))) or 0)


async def test_away_with_cover_hands_customers_over_and_gives_them_back(desk: Desk) -> None:
    acme = await desk.ticket("Acme Corp", tier="premium")
    await desk.ticket("Globex", tier="premium")
    away = await desk.chat.say("U1", "away on --cover <@U3>")
    assert not away.error, away.text
    assert "<@U3> covers <@U1>'s 2 customer(s)" in away.text
    [told] = away.notices
    assert told.to_user_id == "U3" and "Acme Corp, Globex" in told.reply.text
    assert [c.kind for c in await _open(desk)] == [CustodyKind.AWAY_COVER] * 2

    await desk.customer("Initech", owner="U2")
    offered = await desk.chat.say("U2", "handoff Initech <@U1> u1 knows their integration best")
    assert not offered.error and "<@U1> is away; <@U3> covers for them" in offered.text
    await desk.customer("Hooli", owner="U2")
    to_someone_here = await desk.chat.say("U2", "handoff Hooli <@U3> u3 knows their integration best")
    assert not to_someone_here.error and "is away" not in to_someone_here.text

    await desk.tick(hours=4)  # both tickets stale: the cover hears, the away owner does not
    assert desk.nudges("U1") == []
    covered = [n["reply"]["text"] for n in desk.nudges("U3") if "Covering" in fields(n)]
    assert len(covered) == 2 and any(f"#{acme} " in text for text in covered)

    back = await desk.chat.say("U1", "away off")
    assert not back.error and "2 covered customer(s) are back with you" in back.text
    assert await _open(desk) == []
    assert (await _kinds(desk)).count(EventKind.COVER_END) == 2
    assert await _reassign_count(desk) == 0

    await desk.update_ticket(acme, last_activity_at=desk.clock.now)  # Monday 14:00
    await desk.tick(hours=20)  # four business hours later (Tuesday 10:00) Acme is stale again: u1 is back
    assert await desk.first_step(acme) == ("U1", "owner")


async def test_a_lead_arranges_cover_and_it_ends_when_the_owner_is_back(desk: Desk, returns: CustodyReturns) -> None:
    await desk.ticket("Acme Corp")
    refused = await desk.chat.say("U2", "cover <@U1> <@U3>")
    assert refused.error and "Only the owner, a lead or an admin" in refused.text
    assert await _open(desk) == [] and not (await desk.member("U1")).away

    arranged = await desk.chat.say("U_LEAD", "cover <@U1> <@U2>")
    assert not arranged.error, arranged.text
    assert {n.to_user_id for n in arranged.notices} == {"U1", "U2"}
    assert (await desk.member("U1")).away
    listed = await desk.chat.say("U3", "custody")
    assert "u2 for u1 (away-cover) until the owner is back" in listed.plain_text()

    # However the owner comes back (here: the away flag cleared by another path), the ticker returns the cover.
    async with desk.db.sessions() as session, session.begin():
        member = (await session.execute(select(Member).where(Member.platform_user_id == "U1"))).scalar_one()
        member.away = False
    assert await returns.tick() == 1
    assert await returns.tick() == 0
    assert await _open(desk) == []
    assert (await _kinds(desk))[-1] == EventKind.COVER_END


async def test_cover_end_and_default_cover_is_the_delegate(desk: Desk) -> None:
    await desk.ticket("Acme Corp")
    assert not (await desk.chat.say("U1", "delegate <@U2>")).error
    arranged = await desk.chat.say("U_ADMIN", "cover <@U1>")
    assert not arranged.error and arranged.text.startswith("<@U2> covers <@U1>'s 1 customer(s)"), arranged.text
    assert (await desk.chat.say("U3", "cover end <@U1>")).error
    ended = await desk.chat.say("U_LEAD", "cover end <@U1>")
    assert not ended.error and "1 customer(s) are with them again" in ended.text
    assert not (await desk.member("U1")).away


async def test_a_stepped_out_customer_keeps_its_keeper_during_cover(desk: Desk) -> None:
    await desk.ticket("Acme Corp")
    await desk.ticket("Globex")
    assert not (await desk.chat.say("U1", "stepout Acme Corp abusive calls all week")).error
    away = await desk.chat.say("U1", "away on --cover <@U3>")
    assert "1 customer(s)" in away.text and "1 already looked after by someone else" in away.text
    assert sorted(c.kind for c in await _open(desk)) == [CustodyKind.AWAY_COVER, CustodyKind.STEP_OUT]
    refused = await desk.chat.say("U1", "away on --cover <@U1>")
    assert refused.error and "can't cover yourself" in refused.text
