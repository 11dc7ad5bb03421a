"""The console shows what arrived since the member last looked (a read marker per member, in the database),
lists older messages on request, shows their teams' channel posts, and takes typed `done` and `snooze`."""

from __future__ import annotations

import io

from sqlalchemy import select

from bot.console import CONSOLE_WORKSPACE, ConsoleChat, ConsoleNotifier
from db.models import ConsoleReadMarker, NudgeEpisode, NudgeKind, Platform
from handlers import Handlers
from jobs.nudge_sweep import NudgeSweeper
from nudges.settings import NudgeSettings

from ..conftest import Chat, Clock, Database
from ..nudges.conftest import Desk
from .conftest import Console

TEAM = ["team create Support", "team add Support @Ana", "team add Support @Sam"]


async def test_only_new_messages_show_and_older_ones_on_request(console: Console, db: Database) -> None:
    await console("U2", "Sam", [])
    await console("U1", "Ana", ['customer add "Acme Corp"', "claim acme corp", "handoff acme corp @Sam she knows it"])
    first = await console("U2", "Sam", [])
    assert "📬 @Ana wants to hand Acme Corp over to you." in first
    again = await console("U2", "Sam", ["inbox"])  # a restart: the offer was read, so it is not shown again
    assert "wants to hand" not in again
    assert "Nothing new since you last looked." in again
    older = await console("U2", "Sam", ["inbox older", "inbox older 1", "inbox sideways"])
    assert older.count("📬 @Ana wants to hand Acme Corp over to you.") == 2
    assert "[Accept: /accept 1]" in older
    assert "! Type `inbox` for what is new, or `inbox older [N]`" in older
    await console("U1", "Ana", ["handoff withdraw acme corp"])
    later = await console("U2", "Sam", [])
    assert "📬 @Ana withdrew the handoff of Acme Corp to @Sam" in later and "wants to hand" not in later
    async with db.sessions() as session:
        seen = (await session.execute(select(ConsoleReadMarker.box, ConsoleReadMarker.seen))).all()
    assert ("user-U2", 2) in seen


async def test_team_channel_posts_show_once_in_their_latest_version(console: Console) -> None:
    await console("U2", "Sam", [])
    await console("U3", "Zed", [])  # not in the team
    ana = await console("U1", "Ana", [*TEAM, "customer add Acme", "wow acme handwritten card"])
    assert "📢 #console Frugal wow #1 for Acme: handwritten card" in ana  # the card the command posted
    sam = await console("U2", "Sam", ["/vote_yes 1"])
    assert sam.count("Frugal wow #1 for Acme") == 2  # the card at start, then as the vote changed it
    assert "📢 #console (updated) Frugal wow #1" in sam and "Yes (1): Sam" in sam
    assert "[Yes: /vote_yes 1]" in sam
    ana = await console("U1", "Ana", [])
    assert ana.count("Frugal wow #1") == 1 and "(updated)" in ana and "Yes (1): Sam" in ana
    zed = await console("U3", "Zed", [])
    assert "Frugal wow" not in zed


async def test_typed_done_and_snooze_work_like_the_buttons(
    db: Database, clock: Clock, policy: NudgeSettings, inbox: ConsoleNotifier
) -> None:
    handlers = Handlers(db.sessions, admins=frozenset({"U_ADMIN"}), clock=clock, policy=policy)
    local = Chat(handlers, workspace=CONSOLE_WORKSPACE)
    for user in ("U_ADMIN", "U_LEAD", "U1"):
        await local.say(user, "mine")
    await local.say("U_ADMIN", "role U_LEAD lead")
    sweeper = NudgeSweeper(db.sessions, {Platform.CONSOLE: inbox}, policy=policy, clock=clock, worker="t")
    desk = Desk(db, local, clock, inbox, sweeper)
    await desk.ticket("Acme", tier="premium")
    await desk.ticket("Globex", tier="premium")
    await desk.tick(hours=4)

    async def u1(*lines: str) -> str:
        out = io.StringIO()
        typed = iter(lines)

        def read_line() -> str:
            try:
                return next(typed)
            except StopIteration:
                raise EOFError from None

        await ConsoleChat(handlers, user_id="U1", name="u1", out=out, inbox=inbox).run(read_line)
        return out.getvalue()

    shown = await u1()
    ids = [part.split("]")[0] for part in shown.split("[Done: /done ")[1:]]
    assert len(ids) == 2
    typed = await u1(f"done {ids[0]}", f"snooze {ids[1]} 9d", f"snooze {ids[1]} 90min", f"snooze {ids[1]} 2d")
    assert "Done: stale follow-up recorded" in typed
    assert "! Snooze for between 1 minute and 7 days, or until `morning`." in typed
    assert '! "90min" is not a snooze. Use a duration up to 7 days (like 90m, 4h or 2d), or `morning`.' in typed
    assert "Snoozed until 2026-11-25 14:00 UTC" in typed
    assert "has had no update" not in typed  # the nudges were read: a restart does not replay them
    async with db.sessions() as session:
        episodes = (await session.execute(select(NudgeEpisode).where(NudgeEpisode.kind == NudgeKind.STALE))).scalars()
        by_done = sorted((e.done_at is not None, e.snoozed_until) for e in episodes)
    assert by_done == [(False, clock.now.replace(day=25)), (True, None)]
