"""A team's channel typed the ways Slack sends it (`<#C0WOW|wow>`, `#wow`, an id), resolved through the fake
Slack's conversations.list / conversations.info and stored as the id; channels the bot cannot post in are refused
with how to fix it, and nothing is written."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from db.models import Team

from ..conftest import Database
from .conftest import SlackDriver, seeded, text_of


async def team_channels(db: Database) -> dict[str, str | None]:
    async with db.sessions() as session:
        return {t.name: t.channel_id for t in (await session.execute(select(Team))).scalars()}


async def say(slack: SlackDriver, text: str) -> dict[str, object]:
    _, key = await slack.command("U_ADMIN", "/ownerbot", text)
    [answer] = slack.fake.posts_to(key)
    return answer


@pytest.mark.parametrize("typed", ["<#C0WOW|wow>", "<#C0WOW>", "#wow", "#WOW", "C0WOW", '"#wow"'])
async def test_a_typed_channel_is_stored_as_its_id(slack: SlackDriver, db: Database, typed: str) -> None:
    await seeded(slack)
    answer = await say(slack, f"team create Wow Crew --channel {typed}")
    assert "Created team Wow Crew." in text_of(answer), answer
    assert await team_channels(db) == {"Wow Crew": "C0WOW"}


async def test_a_name_is_found_on_a_later_page_and_never_sent_to_conversations_info(
    slack: SlackDriver, db: Database
) -> None:
    await seeded(slack)
    await say(slack, "team create Wow --channel #wow")
    assert [c.get("cursor") or None for c in slack.fake.called("conversations.list")] == [None, "page2"]
    assert slack.fake.called("conversations.info") == []


async def test_a_private_channel_the_bot_is_in_works(slack: SlackDriver, db: Database) -> None:
    await seeded(slack)
    answer = await say(slack, "team create VIP --channel <#G0VIP|vip-desk>")
    assert "Created team VIP." in text_of(answer)
    assert await team_channels(db) == {"VIP": "G0VIP"}


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("#hush", "invite me first: type `/invite @ownerbot` in that channel"),
        ("<#G0HUSH|hush>", "If it is a private channel, invite me first"),
        ("#no-such-place", "I can't find a channel #no-such-place"),
        ("<#C0OLD|old-wins>", "#old-wins is archived"),
        ("C0NOPE42", "I can't find a channel `C0NOPE42`"),
    ],
)
async def test_a_channel_the_bot_cannot_post_in_is_refused_and_nothing_changes(
    slack: SlackDriver, db: Database, typed: str, says: str
) -> None:
    await seeded(slack)
    answer = await say(slack, f"team create Hush --channel {typed}")
    assert answer["response_type"] == "ephemeral"
    assert says in text_of(answer) and text_of(answer).startswith("⚠️"), text_of(answer)
    assert await team_channels(db) == {}


async def test_slack_failing_the_lookup_changes_nothing(slack: SlackDriver, db: Database) -> None:
    await seeded(slack)
    slack.fake.fail("conversations.list", status=200, error="internal_error")
    answer = await say(slack, "team create Wow --channel #wow")
    assert "Slack would not tell me about #wow just now" in text_of(answer)
    assert await team_channels(db) == {}


async def test_the_vote_card_goes_to_the_resolved_channel(slack: SlackDriver, db: Database) -> None:
    await seeded(slack, "Acme")
    for line in ("team create support --channel <#C0WOW|wow>", "team add support <@U1|uma>"):
        await say(slack, line)
    await slack.command("U1", "/claim", "acme")
    slack.fake.reset()
    await slack.command("U1", "/ownerbot", "wow acme handwritten thank-you card --cost 15 --deadline 24h")
    assert [c["channel"] for c in slack.fake.called("chat.postMessage") if c["channel"].startswith("C")] == ["C0WOW"]
