"""Slash commands through the real /slack/events endpoint, answered in their ack (or on response_url when slow)."""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy import func, select

from bot.slack import listeners
from db.models import Customer, HandoffRequest, Member, OwnershipEvent, Tier

from ..conftest import Database
from .conftest import SlackDriver, owner_of, seeded, text_of


async def test_claim_is_one_slash_command_and_names_come_from_users_info(slack: SlackDriver, db: Database) -> None:
    await seeded(slack, "Acme Corp")
    response, key = await slack.command("U1", "/claim", '"acme corp"')
    assert response.status == 200 and response.content_type == "application/json"
    [answer] = slack.fake.posts_to(key)  # the answer is the ack itself: nothing goes to the response_url
    assert answer == await response.json() and answer["response_type"] == "in_channel"
    assert "<@U1> now owns Acme Corp." in text_of(answer) and "<@U1> now owns Acme Corp." in answer["text"]
    assert await owner_of(db, "Acme Corp") == "U1"
    assert [c["user"] for c in slack.fake.called("users.info")] == ["U1"]
    async with db.sessions() as session:
        uma = (await session.execute(select(Member).where(Member.platform_user_id == "U1"))).scalar_one()
    assert (uma.display_name, uma.time_zone) == ("Uma", "Europe/Berlin")

    _, key = await slack.command("U1", "/whoowns", "acme corp")
    [answer] = slack.fake.posts_to(key)
    assert answer["response_type"] == "ephemeral" and "<@U1> owns Acme Corp." in text_of(answer)
    assert len(slack.fake.called("users.info")) == 1  # a known member costs no users.info call


async def test_unknown_customer_gets_a_suggestion_and_changes_nothing(slack: SlackDriver, db: Database) -> None:
    await seeded(slack, "Globex")
    _, key = await slack.command("U1", "/claim", "globx")
    [answer] = slack.fake.posts_to(key)
    assert answer["response_type"] == "ephemeral"
    assert 'I don\'t know a customer called "globx". Did you mean "Globex"?' in text_of(answer)
    assert await owner_of(db, "Globex") is None
    _, key = await slack.command("U1", "/ownerbot", "frobnicate")
    assert "don't know the command `frobnicate`" in text_of(slack.fake.posts_to(key)[0])


async def test_two_agents_claiming_at_once_leaves_exactly_one_owner(slack: SlackDriver, db: Database) -> None:
    await seeded(slack, "Initech")
    agents = ["U1", "U2", "U3", "U4", "U5", "U6"]
    results = await asyncio.gather(*(slack.command(user, "/claim", "initech") for user in agents))
    await slack.face.work.drain()
    answers = [slack.fake.posts_to(key) for _, key in results]
    assert all(len(a) == 1 for a in answers), answers
    winners = [a[0] for a in answers if a[0]["response_type"] == "in_channel"]
    losers = [a[0] for a in answers if a[0]["response_type"] == "ephemeral"]
    assert len(winners) == 1 and len(losers) == len(agents) - 1
    owner = await owner_of(db, "Initech")
    assert owner in agents
    owner_name = {"U1": "Uma", "U2": "Sam", "U3": "Kim", "U4": "Noor", "U5": "Ola", "U6": "Pat"}[owner]
    assert f"<@{owner}> now owns Initech." in text_of(winners[0])
    assert all(f"Initech is already owned by {owner_name}" in text_of(a) for a in losers)
    async with db.sessions() as session:
        claims = await session.scalar(select(func.count()).select_from(OwnershipEvent))
    assert claims == 1


async def test_a_command_slower_than_its_answer_budget_is_acked_empty_and_answered_on_its_response_url(
    slack: SlackDriver, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    await seeded(slack, "Acme")
    monkeypatch.setattr(listeners, "ANSWER_BUDGET", 0.3)  # Slack waits 3 s for an ack; ownerbot waits 2 at most
    slow = slack.fake.hold("users.info")  # Slack takes its time telling us who U1 is
    began = time.monotonic()
    response, key = await slack.command("U1", "/claim", "acme", drain=False)
    assert response.status == 200 and await response.text() == ""  # acked empty while the work waits
    assert 0.3 <= time.monotonic() - began < 1.5
    assert slack.fake.posts_to(key) == [] and await owner_of(db, "Acme") is None
    slow.set()
    await slack.face.work.drain()
    assert await owner_of(db, "Acme") == "U1"
    [answer] = [p for p in slack.fake.posts if p["key"] == key]
    assert "in_ack" not in answer and "<@U1> now owns Acme." in text_of(answer["body"])


async def test_handoff_of_an_unquoted_two_word_customer_before_a_mention(slack: SlackDriver, db: Database) -> None:
    await seeded(slack, "Acme Corp", "Acme")
    await slack.command("U1", "/claim", "acme corp")
    slack.fake.reset()
    _, key = await slack.command("U1", "/handoff", "Acme Corp <@U2|sam> customer prefers a German speaker")
    [answer] = slack.fake.posts_to(key)
    assert answer["response_type"] == "in_channel"
    assert "Handoff of Acme Corp to <@U2> requested." in text_of(answer)
    async with db.sessions() as session:
        [offer] = (await session.execute(select(HandoffRequest))).scalars().all()
        customer = await session.get(Customer, offer.customer_id)
        to = await session.get(Member, offer.to_member_id)
    assert customer is not None and to is not None
    assert (customer.name, to.platform_user_id, offer.reason) == (
        "Acme Corp",
        "U2",
        "customer prefers a German speaker",
    )
    [dm] = slack.fake.dms_to("U2")
    assert "<@U1> wants to hand Acme Corp over to you." in text_of(dm)
    assert "customer prefers a German speaker" in text_of(dm)
    assert await owner_of(db, "Acme Corp") == "U1"  # until Sam accepts


async def test_customer_add_with_a_quoted_name_and_a_bare_tier(slack: SlackDriver, db: Database) -> None:
    await seeded(slack)
    _, key = await slack.command("U_LEAD", "/ownerbot", 'customer add "Acme Corp" premium')
    assert "Added Acme Corp (premium)." in text_of(slack.fake.posts_to(key)[0])
    async with db.sessions() as session:
        [customer] = (await session.execute(select(Customer))).scalars().all()
    assert (customer.name, customer.tier) == ("Acme Corp", Tier.PREMIUM)


async def test_a_command_that_fails_before_the_handlers_answer_says_so_and_changes_nothing(
    slack: SlackDriver, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Slack answers users.info with a shape it never documented: the stranger still hears back, and nothing is
    claimed."""
    await seeded(slack, "Acme")
    answer = slack.fake.answer

    def odd(method: str, args: dict[str, object]) -> dict[str, object]:
        return {"ok": True, "user": "U9"} if method == "users.info" else answer(method, args)

    monkeypatch.setattr(slack.fake, "answer", odd)
    response, key = await slack.command("U9", "/claim", "acme")
    assert response.status == 200
    [reply] = slack.fake.posts_to(key)
    assert "Something went wrong on our side and nothing was changed" in text_of(reply)
    assert reply["response_type"] == "ephemeral"
    assert await owner_of(db, "Acme") is None
