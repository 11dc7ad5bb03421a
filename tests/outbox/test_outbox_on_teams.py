"""On Teams, a click is answered without waiting for what it owes others: the Accept invoke returns while the
offerer's DM is still being throttled (429 with Retry-After), and that DM then goes out once."""

from __future__ import annotations

import time

from handlers import ActionId

from ..conftest import Database
from ..teams.conftest import TeamsWire, connector, text_of, wire  # noqa: F401  (fixtures)


async def test_a_throttled_offerer_does_not_slow_the_accept_click(wire: TeamsWire, db: Database) -> None:
    await wire.say("admin", "customer add Acme")
    await wire.say("ann", "claim acme")
    await wire.say("sam", "mine")
    await wire.say("ann", 'handoff acme "Sam Jones" the customer needs a German speaker')
    assert any("<at>Ann Agent</at> wants to hand Acme over to you" in text_of(a) for a in wire.dm("sam"))

    wire.connector.fail(429, times=3, retry_after="1", path_contains="a:personal-ann")  # Ann's chat is throttled
    outbox, wire.outbox = wire.outbox, None  # time the click alone
    started = time.monotonic()
    response = await wire.invoke("sam", {"action_id": ActionId.ACCEPT_HANDOFF, "value": "1"})
    answered_in = time.monotonic() - started
    assert response.status == 200 and "You now own Acme" in str(await response.json())
    assert not any("accepted" in text_of(a) for a in wire.dm("ann"))  # not yet: it waits on Retry-After
    assert outbox is not None
    await outbox.drain()
    finished_in = time.monotonic() - started
    told = [a for a in wire.dm("ann") if "accepted" in text_of(a)]
    assert len(told) == 1  # then it goes out, once
    assert answered_in < 5.0, answered_in  # Teams' limit, with three 1 s Retry-Afters on Ann's DM
    assert finished_in > answered_in
