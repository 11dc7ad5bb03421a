"""A nudge held for the recipient's working morning goes to whoever looks after the customer when it is sent:
a step-out in the evening takes the owner's held nudge to the keeper; a step back brings the keeper's held nudge
back to the owner (SQLite and PostgreSQL)."""

from __future__ import annotations

from ..nudges.conftest import Desk, at, fields


async def _stale_at_five(desk: Desk) -> int:
    at(desk.clock, 23, 12)  # Monday noon; premium goes stale after 4 business hours: at 17:00
    return await desk.ticket("Acme Corp", tier="premium", opened_at=at(desk.clock, 23, 13))


async def test_an_evening_step_out_takes_the_held_nudge_to_the_keeper(desk: Desk) -> None:
    ticket = await _stale_at_five(desk)
    at(desk.clock, 23, 17, 30)
    await desk.tick()  # stale after hours: planned for u1's morning
    assert desk.nudges("U1") == [] and (await desk.deliveries())[-1].audience == "owner"

    at(desk.clock, 23, 18)
    assert not (await desk.chat.say("U1", "stepout Acme Corp he shouted at me again")).error
    at(desk.clock, 24, 9)
    await desk.tick()
    assert desk.nudges("U1") == []  # never the owner who stepped out
    [nudge] = [n for n in desk.nudges("U_LEAD") if "Covering" in fields(n)]
    assert f"#{ticket}" in nudge["reply"]["text"]
    assert await desk.first_step(ticket) == ("U_LEAD", "cover")


async def test_a_step_back_brings_the_held_nudge_back_to_the_owner(desk: Desk) -> None:
    ticket = await _stale_at_five(desk)
    assert not (await desk.chat.say("U1", "stepout Acme Corp he shouted at me again")).error
    at(desk.clock, 23, 17, 30)
    await desk.tick()  # stale after hours: planned for the lead's morning, as the keeper
    assert await desk.first_step(ticket) == ("U_LEAD", "cover")

    at(desk.clock, 23, 18)
    assert not (await desk.chat.say("U1", "stepback Acme Corp")).error
    at(desk.clock, 24, 9)
    await desk.tick()
    [nudge] = desk.nudges("U1")
    assert f"#{ticket}" in nudge["reply"]["text"] and "Covering" not in fields(nudge)
    assert [n for n in desk.nudges("U_LEAD") if "Covering" in fields(n)] == []
    assert await desk.first_step(ticket) == ("U1", "owner")
