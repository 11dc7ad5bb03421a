"""An abusive customer comment arriving by helpdesk webhook marks the ticket, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import select

from db.models import Mood, TicketEvent, TicketEventKind

from ..conftest import Database
from .conftest import Webhook, count, ticket
from .test_webhook import DAY, generic


async def test_abusive_comment_marks_the_ticket_without_repeating_it(webhook: Webhook, db: Database) -> None:
    status, created = await webhook.post(generic("created", f"{DAY}T09:00:00Z"))
    assert status == 200, created
    fair = generic("commented", f"{DAY}T09:30:00Z", comment={"author": "customer", "body": "Still broken, furious!"})
    assert (await webhook.post(fair))[0] == 200
    assert await count(db, TicketEvent, TicketEvent.kind == TicketEventKind.ABUSE) == 0

    rude = generic(
        "commented", f"{DAY}T10:00:00Z", comment={"author": "customer", "body": "<p>Y0u are a useless 1d10t</p>"}
    )
    status, body = await webhook.post(rude)
    assert status == 200, body
    t = await ticket(db, created["ticket_id"])
    assert t.mood == Mood.UNHAPPY and t.mood_reason == "abusive message (insult)"
    async with db.sessions() as session:
        marked = (
            await session.execute(select(TicketEvent).where(TicketEvent.kind == TicketEventKind.ABUSE))
        ).scalar_one()
    assert marked.text == "abusive message (insult)" and "1d10t" not in (marked.text or "")
