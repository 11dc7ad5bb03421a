"""Step out of a customer and step back, by time travel, on SQLite and PostgreSQL: custody moves and returns by
itself, the audit trail shows it, hot-potato counts do not change, and nudges reach the covering person."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from db.models import Custody, CustodyStatus, Customer, EventKind, NudgeKind, OwnershipEvent, Ticket
from handlers import ActionId
from jobs.custody_returns import CustodyReturns

from ..nudges.conftest import Desk, fields


async def _events(desk: Desk) -> list[tuple[EventKind, str | None]]:
    async with desk.db.sessions() as session:
        rows = await session.execute(select(OwnershipEvent.kind, OwnershipEvent.reason).order_by(OwnershipEvent.id))
        return [(k, r) for k, r in rows.all()]


async def _custody(desk: Desk) -> Custody:
    async with desk.db.sessions() as session:
        return (await session.execute(select(Custody).order_by(Custody.id.desc()).limit(1))).scalar_one()


async def _owner_and_counts(desk: Desk, name: str) -> tuple[str | None, int, int]:
    u1 = (await desk.member("U1")).id
    async with desk.db.sessions() as session:
        customer = (await session.execute(select(Customer).where(Customer.name == name))).scalar_one()
        owner = await session.scalar(select(func.min(Ticket.owner_id)).where(Ticket.customer_id == customer.id))
        reassigns = await session.scalar(
            select(func.sum(Ticket.reassign_count)).where(Ticket.customer_id == customer.id)
        )
        moves = await session.scalar(
            select(func.count())
            .select_from(OwnershipEvent)
            .where(
                OwnershipEvent.customer_id == customer.id,
                OwnershipEvent.kind.in_((EventKind.HANDOFF_ACCEPTED, EventKind.REASSIGN, EventKind.RELEASE)),
            )
        )
        assert customer.owner_id == owner == u1
        return "U1", int(reassigns or 0), int(moves or 0)


async def test_step_out_moves_nudges_to_the_lead_and_returns_by_itself(desk: Desk, returns: CustodyReturns) -> None:
    ticket = await desk.ticket("Acme Corp", tier="premium")  # premium: stale after 4h without an update
    before = await _owner_and_counts(desk, "Acme Corp")

    reply = await desk.chat.say("U1", "stepout Acme Corp the customer keeps insulting me on the phone")
    assert not reply.error, reply.text
    assert "<@U_LEAD> looks after it" in reply.text and "<@U1> stays the owner" in reply.text
    [told] = reply.notices
    assert told.to_user_id == "U_LEAD" and "stepped out of Acme Corp" in told.reply.text
    custody = await _custody(desk)
    assert custody.status == CustodyStatus.ACTIVE and custody.until == desk.clock.now + timedelta(days=7)

    await desk.tick(hours=4)  # stale: the nudge goes to the lead, who looks after Acme Corp
    assert desk.nudges("U1") == []
    [nudge] = desk.nudges("U_LEAD")
    assert f"#{ticket}" in nudge["reply"]["text"] and "Covering" in fields(nudge)
    assert await _owner_and_counts(desk, "Acme Corp") == before  # the owner stays; no re-assign, no hot potato

    history = await desk.chat.say("U2", "history Acme Corp")
    assert any("step-out" in value for _, value in history.fields), history.fields

    desk.clock.advance(days=7)
    assert await returns.tick() == 1
    assert await returns.tick() == 0  # idempotent
    ended = await _custody(desk)
    assert ended.status == CustodyStatus.ENDED and ended.ended_at == custody.until
    assert [k for k, _ in await _events(desk)][-2:] == [EventKind.STEP_OUT, EventKind.STEP_BACK]
    assert (await _events(desk))[-1][1] == "the period ended"

    await desk.update_ticket(ticket, last_activity_at=desk.clock.now)  # Monday 14:00
    await desk.tick(hours=4)  # the resolution target, breached while the lead looked after it: now the owner's
    assert await desk.first_step(ticket, NudgeKind.SLA_BREACH) == ("U1", "owner")
    await desk.tick(hours=16)  # four business hours later (Tuesday 10:00) stale again: planned for its owner
    assert await desk.first_step(ticket) == ("U1", "owner")
    assert await _owner_and_counts(desk, "Acme Corp") == before


async def test_custody_is_over_at_its_end_even_before_the_job_runs(desk: Desk) -> None:
    await desk.ticket("Acme Corp", tier="premium")
    assert not (await desk.chat.say("U1", "stepout Acme Corp rude again --for 2h")).error
    await desk.tick(hours=4)  # the 2 hours are over when the ticket goes stale: the owner hears
    assert len(desk.nudges("U1")) == 1 and desk.nudges("U_LEAD") == []


async def test_stepback_ends_it_early_and_the_customer_returns(desk: Desk) -> None:
    await desk.ticket("Acme Corp", tier="premium")
    assert not (await desk.chat.say("U1", "stepout Acme Corp abusive emails all week")).error
    assert (await desk.chat.say("U1", "stepout Acme Corp again please")).error  # one custody at a time
    back = await desk.chat.say("U1", "stepback Acme Corp")
    assert not back.error, back.text
    assert [n.to_user_id for n in back.notices] == ["U_LEAD"]
    await desk.tick(hours=4)
    assert len(desk.nudges("U1")) == 1 and desk.nudges("U_LEAD") == []
    kinds = [k for k, _ in await _events(desk)]
    assert kinds[-2:] == [EventKind.STEP_OUT, EventKind.STEP_BACK]
    assert (await desk.chat.say("U1", "stepback Acme Corp")).error


async def test_a_named_colleague_must_accept_first(desk: Desk) -> None:
    ticket = await desk.ticket("Acme Corp", tier="premium")
    asked = await desk.chat.say("U1", f"stepout #{ticket} threats on the phone --to <@U2|u2> --for 3d")
    assert not asked.error, asked.text
    [offer] = asked.notices
    assert offer.to_user_id == "U2"
    accept = next(b for b in offer.reply.buttons if b.label == "Accept")
    assert (await desk.chat.click("U3", accept.action_id, accept.value)).error  # not U3's to answer
    await desk.tick(hours=4)
    assert len(desk.nudges("U1")) == 1  # not accepted yet: the owner still gets them

    answer = await desk.chat.click("U2", accept.action_id, accept.value)
    assert not answer.error and answer.replace_original, answer.text
    assert [n.to_user_id for n in answer.notices] == ["U1"]
    custody = await _custody(desk)
    assert custody.status == CustodyStatus.ACTIVE and custody.until is not None
    await desk.update_ticket(ticket, last_activity_at=desk.clock.now)  # Monday 14:00
    await desk.tick(hours=20)  # four business hours later (Tuesday 10:00) stale again: for the colleague
    assert await desk.first_step(ticket) == ("U2", "cover")


async def test_a_declined_step_out_changes_nothing(desk: Desk) -> None:
    await desk.ticket("Acme Corp")
    asked = await desk.chat.say("U1", "stepout Acme Corp rude customer --to <@U2>")
    declined = await desk.chat.say("U2", f"stepout decline {(await _custody(desk)).id}")
    assert not asked.error and not declined.error, declined.text
    assert (await _custody(desk)).status == CustodyStatus.DECLINED
    assert [k for k, _ in await _events(desk)] == [EventKind.CLAIM]


async def test_only_the_owner_a_lead_or_an_admin_can_step_out(desk: Desk) -> None:
    await desk.ticket("Acme Corp")
    refused = await desk.chat.say("U2", "stepout Acme Corp I don't like them")
    assert refused.error and "Only the owner, a lead or an admin" in refused.text
    async with desk.db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Custody)) == 0
    assert not (await desk.chat.say("U_ADMIN", "stepout Acme Corp abusive to u1 --to <@U3>")).error
    assert not (await desk.chat.say("U3", f"stepout accept {(await _custody(desk)).id}")).error
    assert (await desk.chat.say("U2", "stepback Acme Corp")).error  # a stranger can't end it either
    assert not (await desk.chat.say("U_LEAD", "stepback Acme Corp")).error


async def test_bad_input_is_refused_kindly(desk: Desk) -> None:
    await desk.ticket("Acme Corp")
    for text, words in (
        ("stepout Acme Corp", "reason"),
        ("stepout #999 abusive calls", "no ticket #999"),
        ("stepout Acme Corp abusive calls --for 400d", "90 days"),
        ("stepout Acme Corp abusive calls --to <@U1>", "name someone else"),
        ("stepout Nobody Inc abusive calls", "Nobody"),
    ):
        reply = await desk.chat.say("U1", text)
        assert reply.error and words in reply.text, (text, reply.text)


async def test_an_abusive_customer_message_offers_a_step_out_and_tells_the_lead(desk: Desk) -> None:
    ticket = await desk.ticket("Acme Corp")
    fair = await desk.chat.say("U2", f"ticket note #{ticket} --from-customer This export is a disaster, fix it now!")
    assert not fair.error and all(n.reply.buttons == [] for n in fair.notices)

    noted = await desk.chat.say(
        "U2", f"ticket note #{ticket} --from-customer Listen you st00pid 1d10t, I know where you live"
    )
    assert not noted.error, noted.text
    by_user = {n.to_user_id: n.reply for n in noted.notices}
    assert set(by_user) == {"U1", "U_LEAD"}
    assert "abusive message (insult, threat)" in by_user["U1"].text
    assert "1d10t" not in by_user["U1"].plain_text() and "live" not in by_user["U_LEAD"].plain_text()
    [step] = by_user["U1"].buttons
    assert step.action_id == ActionId.STEP_OUT
    assert (await desk.chat.click("U2", step.action_id, step.value)).error  # only the owner (or a lead, an admin)

    shown = await desk.chat.say("U1", f"ticket show #{ticket}")
    assert "abusive message (insult, threat)" in shown.plain_text()

    out = await desk.chat.click("U1", step.action_id, step.value)
    assert not out.error and out.replace_original, out.text
    custody = await _custody(desk)
    assert custody.reason == f"abusive messages on #{ticket}" and custody.ticket_id == ticket

    again = await desk.chat.say("U2", f"ticket note #{ticket} --from-customer you are a moron")
    assert {n.to_user_id for n in again.notices} == {"U_LEAD"}  # the lead looks after it now; no second offer


async def test_the_unhappy_nudge_about_an_abusive_customer_offers_a_step_out(desk: Desk) -> None:
    ticket = await desk.ticket("Acme Corp")
    noted = await desk.chat.say("U_LEAD", f"ticket note #{ticket} --from-customer you absolute moron")
    assert not noted.error
    await desk.tick()
    [nudge] = [n for n in desk.nudges("U1") if "Step out" in [b["label"] for b in n["reply"]["buttons"]]]
    step = next(b for b in nudge["reply"]["buttons"] if b["label"] == "Step out")
    out = await desk.chat.click("U1", step["action_id"], step["value"])
    assert not out.error, out.text
    assert (await _custody(desk)).reason == f"abusive messages on #{ticket}"
