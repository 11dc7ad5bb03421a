"""Proposing, voting (changes, races, anonymity, hidden results) and comments, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json

from bot.console import ConsoleNotifier
from db.models import GestureComment, GestureProposal, GestureStatus, GestureVote, OutboxStatus, VoteChoice
from handlers import ActionId, ActionInvocation, Handlers

from ..conftest import Chat, Clock, Database
from .conftest import CHANNEL_BOX, button_ids, card_of, count, fields, messages, posts, propose, rows


async def test_proposal_card_is_posted_and_updated_in_place(
    team_chat: Chat, db: Database, inbox: ConsoleNotifier
) -> None:
    reply = await team_chat.say("U2", "wow acme handwritten thank-you card --cost 15")
    assert not reply.error, reply.text
    assert "Proposed gesture #1 for Acme: handwritten thank-you card" in reply.text
    assert ("Cost", "15.00 USD") in reply.fields

    [proposal] = await rows(db, GestureProposal)
    assert (proposal.cost_cents, proposal.status, proposal.quorum) == (1500, GestureStatus.OPEN, 3)
    assert proposal.deadline - proposal.created_at == __import__("datetime").timedelta(hours=24)

    card_id, card = card_of(inbox, 1)
    assert card["text"] == "Frugal wow #1 for Acme: handwritten thank-you card"
    assert button_ids(card) == [ActionId.GESTURE_VOTE_YES, ActionId.GESTURE_VOTE_NO, ActionId.GESTURE_COMMENT]
    assert fields(card)["Proposed by"] == "u2" and fields(card)["Yes (0)"] == "nobody yet"

    yes = await team_chat.click("U1", ActionId.GESTURE_VOTE_YES, "1")
    assert not yes.error and "You voted yes on gesture #1" in yes.text
    no = await team_chat.click("U3", ActionId.GESTURE_VOTE_NO, "1")
    assert "You voted no" in no.text
    card_id_after, card = card_of(inbox, 1)
    assert card_id_after == card_id  # the same message, updated in place
    assert fields(card)["Yes (1)"] == "u1" and fields(card)["No (1)"] == "u3"
    assert len(posts(inbox)) == 1  # one card, no re-posts

    changed = await team_chat.say("U3", "wow vote #1 yes")
    assert "You changed your vote to yes" in changed.text
    _, card = card_of(inbox, 1)
    assert fields(card)["Yes (2)"] == "u1, u3" and fields(card)["No (0)"] == "nobody yet"
    votes = await rows(db, GestureVote)
    assert sorted((v.member_id, v.choice) for v in votes) == [(3, VoteChoice.YES), (5, VoteChoice.YES)]

    again = await team_chat.click("U3", ActionId.GESTURE_VOTE_YES, "1")
    assert "already voted yes" in again.text
    assert await count(db, GestureVote) == 2
    updates = [r for r in inbox.read(CHANNEL_BOX) if r["kind"] == "update"]
    assert len(updates) == 3  # two votes and one change; the repeated click changed nothing


async def test_many_concurrent_votes_count_once_per_member(
    team_chat: Chat, db: Database, inbox: ConsoleNotifier, second_replica: Handlers
) -> None:
    """Double clicks, platform retries and two devices (two server replicas): one vote per member."""
    pid = await propose(team_chat, "U2", "wow acme a follow-up call from the team lead")
    voters = ["U1", "U2", "U3", "U_LEAD"]

    def click(handlers: Handlers, user: str, action_id: str):  # type: ignore[no-untyped-def]
        return handlers.action(
            ActionInvocation(
                platform=team_chat.platform,
                workspace=team_chat.workspace,
                user_id=user,
                user_name=user.lower(),
                action_id=action_id,
                value=str(pid),
            )
        )

    clicks = [
        click(h, user, ActionId.GESTURE_VOTE_YES)
        for _ in range(6)
        for user in voters
        for h in (team_chat.handlers, second_replica)
    ]
    # U3 hesitates: yes and no at once from two devices; exactly one of them stands.
    clicks += [
        click(h, "U3", a)
        for _ in range(4)
        for h, a in ((team_chat.handlers, ActionId.GESTURE_VOTE_NO), (second_replica, ActionId.GESTURE_VOTE_YES))
    ]
    replies = await asyncio.gather(*clicks)
    assert not [r.text for r in replies if r.error]
    await team_chat.settle()  # both replicas' outbox senders, woken by those commits, finish what they owe
    await Chat(second_replica).settle()

    votes = await rows(db, GestureVote, proposal_id=pid)
    assert len(votes) == 4 and len({v.member_id for v in votes}) == 4
    first_votes = [r for r in replies if "You voted" in r.text]
    assert len(first_votes) == 4  # each member's first vote counted once; the rest were repeats or changes

    # The card converges to what the database says, posted once and updated in place.
    assert len(posts(inbox)) == 1
    _, card = card_of(inbox, pid)
    yes_count = sum(v.choice == VoteChoice.YES for v in votes)
    assert f"Yes ({yes_count})" in fields(card) and f"No ({4 - yes_count})" in fields(card)
    card_rows = [m for _, m in await messages(db, pid, "card")]
    assert card_rows[0].replaces_id is None and all(m.replaces_id == card_rows[0].id for m in card_rows[1:])
    assert all(m.status == OutboxStatus.SENT and m.lease_until is None for m in card_rows)  # nothing left owed


async def test_anonymous_votes_show_counts_not_names(
    team_chat: Chat, db: Database, inbox: ConsoleNotifier, clock: Clock
) -> None:
    refused = await team_chat.say("U1", "wow settings anonymous on")
    assert refused.error and "lead" in refused.text
    assert (await team_chat.say("U_LEAD", "wow settings anonymous on")).fields[0] == ("Anonymous votes", "on")

    pid = await propose(team_chat, "U_LEAD", "wow acme send a small plant for their new office --deadline 2h")
    for user, action_id in (
        ("U1", ActionId.GESTURE_VOTE_YES),
        ("U2", ActionId.GESTURE_VOTE_YES),
        ("U3", ActionId.GESTURE_VOTE_NO),
    ):
        assert not (await team_chat.click(user, action_id, str(pid))).error
    _, card = card_of(inbox, pid)
    assert fields(card)["Votes"] == "2 yes · 1 no (quorum 3; anonymous)"
    votes_shown = json.dumps([f for f in card["fields"] if f[0] != "Proposed by"])
    assert not any(name in votes_shown for name in ("u1", "u2", "u3"))

    # Turning anonymity off later never reveals the names on a vote that started anonymous.
    await team_chat.say("U_LEAD", "wow settings anonymous off")
    await team_chat.click("U3", ActionId.GESTURE_VOTE_YES, str(pid))
    _, card = card_of(inbox, pid)
    assert fields(card)["Votes"] == "3 yes · 0 no (quorum 3; anonymous)"

    clock.advance(hours=2)
    from .conftest import tick

    await tick(db, inbox, clock)
    records = inbox.read(CHANNEL_BOX)
    everything = json.dumps(records)
    assert "u2" not in everything and "u3" not in everything  # voters; u1 shows only as Acme's assignee
    assert not [label for r in records for label, _ in r["reply"]["fields"] if label.startswith(("Yes", "No"))]
    assert "3 yes, 0 no" in records[-1]["reply"]["text"]


async def test_hidden_results_until_close(team_chat: Chat, db: Database, inbox: ConsoleNotifier, clock: Clock) -> None:
    await team_chat.say("U_LEAD", "wow settings hide-results on")
    pid = await propose(team_chat, "U2", "wow acme a thank-you video from the team --deadline 1h")
    await team_chat.click("U1", ActionId.GESTURE_VOTE_YES, str(pid))
    await team_chat.click("U3", ActionId.GESTURE_VOTE_NO, str(pid))
    _, card = card_of(inbox, pid)
    assert fields(card)["Votes"].startswith("2 vote(s) so far (quorum 3); results are hidden")
    assert "Yes (1)" not in fields(card) and "u3" not in json.dumps(card["fields"])

    await team_chat.click("U2", ActionId.GESTURE_VOTE_YES, str(pid))
    clock.advance(hours=1)
    from .conftest import tick

    await tick(db, inbox, clock)
    _, card = card_of(inbox, pid)
    assert fields(card)["Yes (2)"] == "u1, u2" and fields(card)["No (1)"] == "u3"


async def test_comment_through_the_prompt(team_chat: Chat, db: Database, inbox: ConsoleNotifier) -> None:
    pid = await propose(team_chat, "U2", "wow acme handwritten card")
    opened = await team_chat.click("U1", ActionId.GESTURE_COMMENT, str(pid))
    assert opened.prompt is not None and opened.prompt.submit_action_id == ActionId.GESTURE_COMMENT_SUBMIT
    empty = await team_chat.click("U1", ActionId.GESTURE_COMMENT_SUBMIT, opened.prompt.value, "   ")
    assert empty.error and await count(db, GestureComment) == 0
    done = await team_chat.click("U1", ActionId.GESTURE_COMMENT_SUBMIT, opened.prompt.value, "they loved the last one")
    assert not done.error, done.text
    await team_chat.say("U3", f"wow comment {pid} make it a postcard from our city")
    _, card = card_of(inbox, pid)
    comments = [(label, value) for label, value in card["fields"] if label.startswith("Comment from")]
    assert comments == [
        ("Comment from u1", "they loved the last one"),
        ("Comment from u3", "make it a postcard from our city"),
    ]


async def test_bad_input_is_refused_and_changes_nothing(team_chat: Chat, db: Database, inbox: ConsoleNotifier) -> None:
    cases = {
        "wow acmee handwritten card": 'Did you mean "Acme"?',
        "wow acme card --cost -5": "is not an amount",
        "wow acme card --cost 15.555": "is not an amount",
        "wow acme card --cost 20000": "more than the most",
        "wow acme card --deadline 5m": "between 10m and 14d",
        "wow acme card --deadline 30d": "between 10m and 14d",
        "wow acme card --deadline soon": "is not a duration",
        "wow acme hi": "Describe the gesture",
        "wow acme card --price 5": "Unknown option --price",
        "wow acme": "Usage",
        "wow vote 99 yes": "no gesture #99",
        "wow vote abc yes": "not a gesture number",
        "wow settings quorum 0": "between 1 and 100",
        "wow settings quorum many": "number of votes",
        "wow budget lots": "is not an amount",
    }
    for text, expected in cases.items():
        reply = await team_chat.say("U_LEAD", text)
        assert reply.error and expected in reply.text, (text, reply.text)
    teamless = await team_chat.say("U_ADMIN", "wow acme handwritten card")  # neither Acme nor the admin has a team
    assert teamless.error and "Neither Acme nor you belong to a team" in teamless.text
    assert await count(db, GestureProposal) == 0
    assert inbox.read(CHANNEL_BOX) == []

    pid = await propose(team_chat, "U2", "wow acme handwritten card")
    maybe = await team_chat.say("U1", f"wow vote {pid} maybe")
    assert maybe.error and 'Vote "yes" or "no"' in maybe.text
    outsider = await team_chat.click("U_ADMIN", ActionId.GESTURE_VOTE_YES, str(pid))  # not in the team
    assert outsider.error and "Only members of support" in outsider.text
    stale = await team_chat.click("U1", ActionId.GESTURE_VOTE_YES, "not-a-number")
    assert stale.error and "out of date" in stale.text
    other_workspace = Chat(team_chat.handlers, workspace="T2")
    elsewhere = await other_workspace.click("U1", ActionId.GESTURE_VOTE_YES, str(pid))
    assert elsewhere.error and "no gesture" in elsewhere.text
    assert await count(db, GestureVote) == 0
