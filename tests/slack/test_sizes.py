"""Long lists on Slack: a page at a time with "N more" and `--page N`, and never a message over Slack's limits
(50 blocks, 3000 characters a section) whatever the data."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from slack_sdk.models.blocks import MarkdownTextObject, SectionBlock
from sqlalchemy import select

from bot.slack import render
from db.models import Member
from handlers import Button, Reply
from ownership.customers import add_customer

from ..conftest import Database
from .conftest import SlackDriver, seeded, text_of

MANY = 1500


def within_slack_limits(message: dict[str, Any]) -> None:
    blocks = message["blocks"]
    blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
    assert len(blocks) <= 50
    for block in blocks:
        texts = [block.get("text") or {}, *(block.get("fields") or [])]
        assert all(len(t.get("text", "")) <= 3000 for t in texts)
        assert len(block.get("fields") or []) <= 10
    assert len(message["text"]) <= 3000


async def many_customers(db: Database) -> None:
    async with db.sessions() as session, session.begin():
        lead = (await session.execute(select(Member).where(Member.platform_user_id == "U_LEAD"))).scalar_one()
        for n in range(MANY):
            name = f"*Star* Client {n:04d} 😀 Ünïcode {'x' * 60}"
            await add_customer(session, actor=lead, name=name, now=datetime(2026, 11, 23, tzinfo=UTC))


async def test_1500_customers_show_a_page_at_a_time(slack: SlackDriver, db: Database) -> None:
    await seeded(slack)
    await many_customers(db)
    _, key = await slack.command("U1", "/ownerbot", "customers")
    [first] = slack.fake.posts_to(key)
    within_slack_limits(first)
    shown = text_of(first)
    assert "1500 customer(s). Page 1 of 75 (1480 more): `customers --page 2` for the next." in shown
    assert shown.count("Client 0") == 20 and "Client 0019" in shown and "Client 0020" not in shown
    assert "*Star*" not in shown  # the name's asterisks do not turn bold

    _, key = await slack.command("U1", "/ownerbot", "customers --page 75")
    [last] = slack.fake.posts_to(key)
    within_slack_limits(last)
    assert "Page 75 of 75: the last." in text_of(last) and "Client 1499" in text_of(last)

    _, key = await slack.command("U1", "/ownerbot", "customers --page 76")
    [past] = slack.fake.posts_to(key)
    assert "There are only 75 page(s); try `--page 75`." in text_of(past)


async def test_a_short_list_has_no_paging_words(slack: SlackDriver) -> None:
    await seeded(slack, "Acme", "Globex")
    _, key = await slack.command("U1", "/ownerbot", "customers")
    [answer] = slack.fake.posts_to(key)
    assert "2 customer(s)" in text_of(answer) and "Page" not in text_of(answer)


def test_any_reply_fits_a_message_and_keeps_its_buttons() -> None:
    huge = Reply(
        "x" * 5000,
        fields=[(f"label {n} " + "y" * 500, "z" * 3000) for n in range(300)],
        buttons=[Button(f"B{n}", "ownerbot.nudge.done", str(n)) for n in range(30)],
    )
    message = render.message(huge)
    within_slack_limits(message)
    assert "more section(s) not shown here" in text_of(message)
    assert [b["type"] for b in message["blocks"][-2:]] == ["actions", "actions"]  # the buttons survive the cut
    home = render.home_view(huge, updated="now")
    assert len(home["blocks"]) <= 100 and home["blocks"][-1]["type"] == "context"


@given(st.text(max_size=4000), st.booleans())
@settings(max_examples=200, deadline=None)
def test_a_one_section_reply_is_what_slack_sdk_writes_and_fits(typed: str, error: bool) -> None:
    """The plain-text path skips slack_sdk's models: the block must be exactly theirs, within Slack's limits."""
    reply = Reply(typed, error=error)
    [block] = render.message_blocks(reply)
    text = render.clip(("⚠️ " if error else "") + render.escape(typed), render.MAX_SECTION)
    assert block == SectionBlock(text=MarkdownTextObject(text=text)).to_dict()
    within_slack_limits(render.message(reply))
