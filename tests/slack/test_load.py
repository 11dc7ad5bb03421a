"""Load over the real /slack/events endpoint: a burst is answered command by command, never "Something went
wrong"; a command that cannot get its turn in time is answered "busy" and changes nothing; a claim costs few
statements (counted by the server's own ownerbot_database_statements_total)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select

from db.models import Customer, OwnershipEvent

from ..conftest import Database
from .conftest import FakeSlack, SlackDriver, owner_of, seeded, slack_env, start_ownerbot, text_of

CUSTOMERS = ["Acme Corp", "Globex Ünlü", "Initech 株式会社", "Umbrella & Sons", "Ёлка Ltd", "Hooli 🚀"]


@pytest.fixture
async def narrow(db: Database, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[SlackDriver]:
    """ownerbot whose commands take turns one at a time and wait at most 0.3 s for theirs."""
    slack_env(monkeypatch, fake_slack)
    monkeypatch.setenv("DATABASE_WRITERS", "1")
    monkeypatch.setenv("DATABASE_QUEUE_SECONDS", "0.3")
    client = await start_ownerbot(db)
    yield SlackDriver(client, fake_slack)
    await client.close()


async def database_counters(slack: SlackDriver) -> tuple[float, float]:
    """(statements, transactions) so far, from GET /metrics; a scrape's own reads are in its answer."""
    response = await slack.client.get("/metrics")
    found = dict(line.split()[:2] for line in (await response.text()).splitlines() if line.startswith("ownerbot_"))
    return float(found["ownerbot_database_statements_total"]), float(found["ownerbot_database_transactions_total"])


async def test_a_burst_of_claims_is_answered_one_by_one_and_none_fails(slack: SlackDriver, db: Database) -> None:
    await seeded(slack, *CUSTOMERS)
    agents = ["U1", "U2", "U3", "U4", "U5", "U6"]
    sent = [
        slack.command(agents[n % len(agents)], "/claim", f'"{CUSTOMERS[n % len(CUSTOMERS)]}"', drain=False)
        for n in range(36)  # every customer claimed by six people at once
    ]
    keys = [key for _response, key in await asyncio.gather(*sent)]
    await slack.face.work.drain(seconds=120)
    answers = [slack.fake.posts_to(key) for key in keys]
    assert all(len(answer) == 1 for answer in answers)
    texts = [text_of(answer[0]) for answer in answers]
    assert not [t for t in texts if "went wrong" in t or "busy" in t]
    assert sum(" now owns " in t for t in texts) == len(CUSTOMERS)  # one winner each, the rest told who won
    async with db.sessions() as session:
        owned = await session.scalar(select(func.count()).where(Customer.owner_id.is_not(None)))
        claims = await session.scalar(select(func.count()).select_from(OwnershipEvent))
    assert owned == len(CUSTOMERS) and claims == len(CUSTOMERS)


async def test_a_command_that_cannot_get_its_turn_is_answered_busy_and_changes_nothing(
    narrow: SlackDriver, db: Database
) -> None:
    await seeded(narrow, "Acme Corp")
    await narrow.command("U1", "/mine")  # Uma is known
    admission = narrow.face.handlers.admission
    async with admission.turn():  # a long transaction holds the only turn
        _response, key = await narrow.command("U1", "/claim", "acme corp", drain=False)
        await asyncio.sleep(0.6)
    await narrow.face.work.drain()
    [answer] = narrow.fake.posts_to(key)
    assert "very busy" in text_of(answer) and "nothing was changed" in text_of(answer)
    assert "went wrong" not in text_of(answer)
    assert await owner_of(db, "Acme Corp") is None

    _response, key = await narrow.command("U1", "/claim", "acme corp")  # once there is room: as usual
    assert "<@U1> now owns Acme Corp." in text_of(narrow.fake.posts_to(key)[0])


async def test_a_known_members_claim_costs_few_statements_in_one_transaction(slack: SlackDriver, db: Database) -> None:
    await seeded(slack, "Acme Corp", "Globex")
    await slack.command("U1", "/claim", "globex")  # Uma is known, and so is her workspace
    await slack.command("U1", "/mine")  # this server knows it
    first = await database_counters(slack)
    before = await database_counters(slack)
    scrape = (before[0] - first[0], before[1] - first[1])  # what one scrape reads (the nudges due)
    _response, key = await slack.command("U1", "/claim", "acme corp")
    assert "<@U1> now owns Acme Corp." in text_of(slack.fake.posts_to(key)[0])
    after = await database_counters(slack)
    statements = after[0] - before[0] - scrape[0]
    transactions = after[1] - before[1] - scrape[1]
    # one transaction: the request's dedupe row, which also reads the channel's customer link and whether the
    # caller is a member (a customer never runs a command in their channel, and answers there are private); the
    # workspace and the member (one SELECT), the customer, UPDATE … RETURNING, the audit row; the database moves
    # the tickets and writes the nudge re-check (triggers)
    assert (transactions, statements) == (1, 5), (transactions, statements)
