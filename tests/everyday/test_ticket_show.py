"""`ticket show` gives the owner, the re-assign count, due times and the timeline; `tickets` shows each ticket's
current owner, resolved ones too."""

from __future__ import annotations

from ..conftest import Clock
from .conftest import Console


async def test_ticket_show_and_tickets_after_a_handoff(console: Console, clock: Clock) -> None:
    await console("U2", "Sam", [])
    ana = await console(
        "U1",
        "Ana",
        [
            'customer add "Acme Corp" premium',
            "claim acme corp",
            "ticket open Acme Corp Export times out",
            "ticket open Acme Corp Login page is slow",
            "ticket resolve 2",
            "handoff Acme Corp @Sam she speaks German with their CTO",
        ],
    )
    assert "#2 is resolved." in ana
    await console("U2", "Sam", ["accept"])
    clock.advance(hours=2)
    ana = await console("U1", "Ana", ["tickets acme corp", "ticket show 1", "ticket show 2"])
    assert "#1 Acme Corp: Export times out [open, normal] owner Sam" in ana
    assert "#2 Acme Corp: Login page is slow [resolved, normal] owner Sam" in ana  # not Ana, who resolved it
    show_1 = ana[ana.index("#1 Export times out") : ana.index("#2 Login page is slow\n")]
    assert "Owner: @Sam" in show_1 and "Re-assigns: 1" in show_1
    # on business hours (Mon-Fri 09:00-17:00 UTC by default): 24 business hours from Monday 10:00 is Thursday 10:00
    assert "First response due: Mon 23 Nov 11:00 UTC (overdue by 1h, business time)" in show_1
    assert "Next update due: Mon 23 Nov 14:00 UTC (in 2h, business time)" in show_1
    assert "Resolution due: Thu 26 Nov 10:00 UTC (in 22h, business time)" in show_1
    assert "opened by Ana: Export times out (via console)" in show_1
    show_2 = ana[ana.index("#2 Login page is slow\n") :]
    assert "Owner: @Sam" in show_2 and "Re-assigns: 0" in show_2  # resolved before the handoff: it stayed put
    assert "Resolution due" not in show_2 and "Next update due" not in show_2
    assert "Ana: open → resolved" in show_2
