"""Closing at the deadline: time travel, quorum, restarts, two replicas closing at once; on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from bot.console import ConsoleNotifier
from db.engine import create_engine, create_session_factory
from db.models import GestureProposal, GestureStatus, GestureVote, OutboxStatus, Platform
from handlers import ActionId, Handlers
from jobs.gesture_closer import close_due_proposals
from jobs.outbox_sender import OutboxSender
from nudges.settings import NudgeSettings

from ..conftest import Chat, Clock, Database
from .conftest import CHANNEL_BOX, button_ids, card_of, count, fields, messages, posts, propose, rows, tick


def outcomes(inbox: ConsoleNotifier) -> list[str]:
    return [r["reply"]["text"] for r in posts(inbox) if r["reply"]["text"].startswith("Gesture #")]


async def test_deadline_close_with_time_travel(
    team_chat: Chat, db: Database, inbox: ConsoleNotifier, clock: Clock
) -> None:
    pid = await propose(team_chat, "U2", "wow acme handwritten card from the whole team --deadline 2h --cost 4.50")
    for user in ("U1", "U2", "U3"):
        await team_chat.click(user, ActionId.GESTURE_VOTE_YES, str(pid))
    await team_chat.click("U_LEAD", ActionId.GESTURE_VOTE_NO, str(pid))

    clock.advance(hours=1, minutes=59)
    early = await tick(db, inbox, clock)
    assert early.closed == [] and outcomes(inbox) == []
    [proposal] = await rows(db, GestureProposal)
    assert proposal.status == GestureStatus.OPEN

    clock.advance(minutes=1)
    late_vote = await team_chat.click("U_LEAD", ActionId.GESTURE_VOTE_YES, str(pid))  # at the deadline: too late
    assert late_vote.error and "has closed" in late_vote.text
    report = await tick(db, inbox, clock)
    assert report.closed == [pid]
    [proposal] = await rows(db, GestureProposal)
    assert (proposal.status, proposal.yes_votes, proposal.no_votes) == (GestureStatus.APPROVED, 3, 1)
    assert proposal.closed_at == clock() and proposal.approved_at == clock()
    assert proposal.assignee_id == 3  # Acme's owner, U1
    assert outcomes(inbox) == [
        "Gesture #1 for Acme (handwritten card from the whole team) is approved (3 yes, 1 no). "
        "u1 delivers it: `wow delivered 1` when done."
    ]
    _, card = card_of(inbox, pid)
    assert fields(card)["Status"] == "approved; u1 delivers it"
    assert button_ids(card) == [ActionId.GESTURE_DELIVERED]  # no more voting buttons
    # The proposer (U2) and the customer's owner (U1) are told; the owner gets the delivered button.
    [to_proposer] = posts(inbox, "user-U2")
    [to_owner] = posts(inbox, "user-U1")
    assert "is approved" in to_proposer["reply"]["text"] and to_proposer["reply"]["buttons"] == []
    assert button_ids(to_owner["reply"]) == [ActionId.GESTURE_DELIVERED]

    again = await tick(db, inbox, clock)
    assert again.closed == [] and again.sent == 0 and len(outcomes(inbox)) == 1
    assert await count(db, GestureVote) == 4


async def test_quorum_not_reached_and_tie(team_chat: Chat, db: Database, inbox: ConsoleNotifier, clock: Clock) -> None:
    thin = await propose(team_chat, "U2", "wow acme a box of local chocolates --deadline 1h")
    tie = await propose(team_chat, "U2", "wow acme a signed team photo --deadline 1h")
    for user in ("U1", "U2"):
        await team_chat.click(user, ActionId.GESTURE_VOTE_YES, str(thin))
    for user, action_id in (
        ("U1", ActionId.GESTURE_VOTE_YES),
        ("U2", ActionId.GESTURE_VOTE_YES),
        ("U3", ActionId.GESTURE_VOTE_NO),
        ("U_LEAD", ActionId.GESTURE_VOTE_NO),
    ):
        await team_chat.click(user, action_id, str(tie))
    clock.advance(hours=1)
    report = await tick(db, inbox, clock)
    assert sorted(report.closed) == [thin, tie]
    statuses = {p.id: (p.status, p.assignee_id, p.approved_at) for p in await rows(db, GestureProposal)}
    assert statuses[thin] == (GestureStatus.NO_QUORUM, None, None)
    assert statuses[tie] == (GestureStatus.REJECTED, None, None)
    assert sorted(outcomes(inbox)) == [
        "Gesture #1 for Acme (a box of local chocolates) closed without quorum: 2 of 3 votes.",
        "Gesture #2 for Acme (a signed team photo) was not approved (2 yes, 2 no).",
    ]
    _, card = card_of(inbox, thin)
    assert fields(card)["Status"] == "closed without quorum (2 of 3 votes)" and card["buttons"] == []
    listed = await team_chat.say("U1", "wow list")
    assert "No gestures are open" in listed.text


async def test_close_after_restart_announces_exactly_once(
    team_chat: Chat, db: Database, inbox: ConsoleNotifier, clock: Clock, tmp_path: Path
) -> None:
    pid = await propose(team_chat, "U2", "wow acme a follow-up call --deadline 3h")
    for user in ("U1", "U2", "U3"):
        await team_chat.click(user, ActionId.GESTURE_VOTE_YES, str(pid))
    await db.engine.dispose()  # the server stops; nothing it held in memory survives
    clock.advance(hours=5)

    # A new process closes it, but dies before it could tell anyone (no platform reachable).
    engine = create_engine(db.url)
    try:
        crashed = await close_due_proposals(sessions=create_session_factory(engine), now=clock())
    finally:
        await engine.dispose()
    assert crashed.closed == [pid] and outcomes(inbox) == []
    owed = await messages(db, pid)
    pending = {(purpose, m.replaces_id is not None) for purpose, m in owed if m.status == OutboxStatus.PENDING}
    assert pending >= {("outcome", False), ("card", True)}  # the outcome, and an update of the posted card

    # After the restart, four replicas tick at the same time: one announcement, one DM each, card updated.
    clock.advance(minutes=6)
    engines = [create_engine(db.url) for _ in range(4)]
    try:
        reports = await asyncio.gather(
            *[close_due_proposals(sessions=create_session_factory(e), now=clock()) for e in engines]
        )
        await asyncio.gather(
            *[
                OutboxSender(
                    create_session_factory(e), {Platform.CONSOLE: ConsoleNotifier(inbox.inbox)}, clock
                ).send_due()
                for e in engines
            ]
        )
    finally:
        for e in engines:
            await e.dispose()
    assert [r.closed for r in reports] == [[], [], [], []]
    assert len(outcomes(inbox)) == 1 and "is approved (3 yes, 0 no)" in outcomes(inbox)[0]
    assert len(posts(inbox, "user-U1")) == 1 and len(posts(inbox, "user-U2")) == 1
    _, card = card_of(inbox, pid)
    assert fields(card)["Status"] == "approved; u1 delivers it"
    assert all(m.status == OutboxStatus.SENT for _, m in await messages(db, pid))


async def test_two_replicas_closing_at_once_close_once(
    team_chat: Chat, db: Database, inbox: ConsoleNotifier, clock: Clock, second_replica: Handlers
) -> None:
    ids = [await propose(team_chat, "U2", f"wow acme gesture number {n} --deadline 1h") for n in range(3)]
    for pid in ids:
        for user in ("U1", "U3", "U_LEAD"):
            await team_chat.click(user, ActionId.GESTURE_VOTE_YES, str(pid))
    clock.advance(hours=1)
    engines = [create_engine(db.url) for _ in range(5)]
    try:
        replicas = [create_session_factory(e) for e in engines]
        reports = await asyncio.gather(*[close_due_proposals(sessions=s, now=clock()) for s in replicas])
        await asyncio.gather(*[OutboxSender(s, {Platform.CONSOLE: inbox}, clock).send_due() for s in replicas])
    finally:
        for e in engines:
            await e.dispose()
    closed = sorted(pid for r in reports for pid in r.closed)
    assert closed == ids  # each closed by exactly one replica
    assert sorted(outcomes(inbox)) == sorted(
        f"Gesture #{pid} for Acme (gesture number {n}) is approved (3 yes, 0 no). u1 delivers it: "
        f"`wow delivered {pid}` when done."
        for n, pid in enumerate(ids)
    )
    assert len(posts(inbox, "user-U1")) == 3 and len(posts(inbox, "user-U2")) == 3
    assert [r for r in inbox.read(CHANNEL_BOX) if r["kind"] == "channel"].__len__() == 6  # 3 cards + 3 outcomes


async def test_votes_racing_the_close_are_counted_or_refused_never_lost(
    team_chat: Chat, db: Database, inbox: ConsoleNotifier, clock: Clock
) -> None:
    """A replica whose clock runs a little behind still accepts votes while another replica closes the vote:
    every vote stored is in the final count, and every vote not counted was refused."""
    pid = await propose(team_chat, "U2", "wow acme a handwritten card --deadline 1h")
    clock.advance(hours=1)
    behind = Clock(clock() - timedelta(seconds=30))
    engine = create_engine(db.url)
    try:
        sessions = create_session_factory(engine)
        late = Handlers(
            sessions,
            admins=frozenset({"U_ADMIN"}),
            clock=behind,
            policy=NudgeSettings(),
            wake_sender=OutboxSender(sessions, {Platform.CONSOLE: inbox}, behind).wake,
        )
        voters = ("U1", "U2", "U3", "U_LEAD")
        results = await asyncio.gather(
            *[Chat(late).click(user, ActionId.GESTURE_VOTE_YES, str(pid)) for user in voters],
            tick(db, inbox, clock),
            tick(db, inbox, clock),
        )
    finally:
        await engine.dispose()
    while (await tick(db, inbox, clock)).closed:  # a closer that met a locked row skips it until the next tick
        pass
    vote_replies = results[: len(voters)]
    accepted = [r for r in vote_replies if not r.error]
    assert all("has closed" in r.text for r in vote_replies if r.error)
    [proposal] = await rows(db, GestureProposal)
    assert proposal.status != GestureStatus.OPEN
    assert proposal.yes_votes == len(accepted) == await count(db, GestureVote)
    assert len(outcomes(inbox)) == 1
