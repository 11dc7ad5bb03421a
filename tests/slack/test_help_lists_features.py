"""Commands registered once in the handlers layer reach Slack: `/ownerbot help` lists them."""

from __future__ import annotations

from db.models import GestureProposal, Ticket

from ..gestures.conftest import count
from .conftest import SlackDriver, text_of


async def test_slack_help_lists_the_wow_and_ticket_commands(slack: SlackDriver, db) -> None:  # type: ignore[no-untyped-def]
    response, key = await slack.command("U1", "/ownerbot", "help")
    assert response.status == 200
    [answer] = slack.fake.posts_to(key)
    shown = text_of(answer) + "\n" + str(answer.get("text") or "")
    shown = shown.replace("&lt;", "<").replace("&gt;", ">")  # Slack mrkdwn escapes angle brackets
    for usage in (
        "wow <customer> <gesture…> [--cost 15] [--deadline 24h]",
        "Propose, vote on and deliver small gestures",
        "ticket open <customer> <subject…>",
        "Open and work tickets",
    ):
        assert usage in shown, usage
    assert answer.get("response_type", "ephemeral") == "ephemeral"
    assert await count(db, GestureProposal) == 0 and await count(db, Ticket) == 0  # asking for help changes nothing
