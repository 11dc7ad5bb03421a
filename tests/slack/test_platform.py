"""Slack platform details: ephemeral answers to a mention inside a thread stay in that thread."""

from __future__ import annotations

from ..conftest import Database
from .conftest import SlackDriver, seeded, text_of
from .test_events import mention


async def test_an_ephemeral_answer_to_a_mention_in_a_thread_lands_in_that_thread(
    slack: SlackDriver, db: Database
) -> None:
    await seeded(slack, "Umbrella")
    threaded = {**mention("U2", "whoowns umbrella", ts="1700000200.000200"), "thread_ts": "1700000150.000150"}
    await slack.event(threaded, "Ev0THREAD")
    await slack.event(mention("U2", "whoowns umbrella", ts="1700000300.000300"), "Ev0TOP")
    in_thread, top_level = slack.fake.called("chat.postEphemeral")
    assert "Umbrella" in text_of(in_thread) and in_thread["thread_ts"] == "1700000150.000150"
    assert "Umbrella" in text_of(top_level) and "thread_ts" not in top_level  # not pushed into a new thread
