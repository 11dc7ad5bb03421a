"""An ownership change asks the planner to look at the customer and its open tickets at the next tick."""

from __future__ import annotations

import re

from sqlalchemy import event, select

from db.models import NudgeCheck, SubjectKind, TicketStatus
from db.models.nudges import EPOCH

from .conftest import Desk


async def checks(desk: Desk, kind: SubjectKind, ids: list[int]) -> dict[int, bool]:
    """Per subject: is it due at the next tick (EPOCH), rather than at its planned time?"""
    async with desk.db.sessions() as session:
        rows = await session.execute(
            select(NudgeCheck.subject_id, NudgeCheck.check_at).where(
                NudgeCheck.subject_kind == kind, NudgeCheck.subject_id.in_(ids)
            )
        )
        return {subject: check_at == EPOCH for subject, check_at in rows}


async def test_a_claim_puts_the_customer_and_its_open_tickets_up_for_the_next_tick(desk: Desk) -> None:
    customer = await desk.customer("Acme")
    open_ticket = await desk.ticket("Acme", owner=None)
    done_ticket = await desk.ticket("Acme", owner=None, subject="Old question", status=TicketStatus.RESOLVED)
    await desk.tick(minutes=1)  # the planner looked at everything: each check moved to its planned time
    assert await checks(desk, SubjectKind.CUSTOMER, [customer]) == {customer: False}
    assert (await checks(desk, SubjectKind.TICKET, [open_ticket]))[open_ticket] is False

    claimed = await desk.chat.say("U1", "claim acme")
    assert not claimed.error, claimed.text

    assert await checks(desk, SubjectKind.CUSTOMER, [customer]) == {customer: True}
    tickets = await checks(desk, SubjectKind.TICKET, [open_ticket, done_ticket])
    assert tickets[open_ticket] is True
    assert tickets.get(done_ticket) is not True  # a resolved ticket has nothing to re-plan


async def test_an_accepted_handoff_puts_the_customer_and_its_open_tickets_up_for_the_next_tick(desk: Desk) -> None:
    customer = await desk.customer("Acme", owner="U1")
    ticket = await desk.ticket("Acme", owner="U1")
    await desk.chat.say("U2", "mine")
    offered = await desk.chat.say("U1", "handoff acme U2 they speak German with the CTO")
    assert not offered.error, offered.text
    await desk.tick(minutes=1)  # planned: nothing about Acme is due at the next tick
    assert (await checks(desk, SubjectKind.CUSTOMER, [customer])).get(customer) is not True
    assert (await checks(desk, SubjectKind.TICKET, [ticket])).get(ticket) is not True

    accepted = await desk.chat.say("U2", "accept acme")
    assert not accepted.error, accepted.text

    assert await checks(desk, SubjectKind.CUSTOMER, [customer]) == {customer: True}
    assert await checks(desk, SubjectKind.TICKET, [ticket]) == {ticket: True}


async def test_a_tick_reads_a_batch_of_rechecked_customers_and_handoffs_in_a_query_per_kind(desk: Desk) -> None:
    """Every claim and every handoff puts a subject up for the next tick; the planner reads them a batch at a time
    (a customer with how often it changed hands and when it was released, a handoff with its customer), never a
    query or two per subject."""
    names = [f"Kunde {n} Ünlü" for n in range(12)]
    for name in names:
        await desk.customer(name, owner="U1")
    await desk.chat.say("U2", "mine")
    for name in names[:6]:
        offered = await desk.chat.say("U1", f'handoff "{name}" U2 they speak German with the CTO')
        assert not offered.error, offered.text
    statements: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(statement)

    event.listen(desk.db.engine.sync_engine, "before_cursor_execute", seen)
    try:
        result = await desk.tick(minutes=1)
    finally:
        event.remove(desk.db.engine.sync_engine, "before_cursor_execute", seen)
    assert result.checked >= len(names) + 6  # the 12 customers and 6 handoffs at least
    reads = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    by_id = [s for s in reads if re.search(r"WHERE (customers|handoff_requests)\.id (IN|=)", s)]
    customer_reads = [s for s in by_id if "WHERE customers.id" in s]
    handoff_reads = [s for s in by_id if "WHERE handoff_requests.id" in s]
    assert len(customer_reads) == 1 and len(handoff_reads) == 1, (len(customer_reads), len(handoff_reads))
