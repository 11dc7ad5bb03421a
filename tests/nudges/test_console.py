"""Nudges in the terminal console: the inbox is shown at start, and the buttons work as `/done 12`."""

from __future__ import annotations

import io

from sqlalchemy import select

from bot.console import CONSOLE_WORKSPACE, ConsoleChat
from db.models import NudgeEpisode, NudgeKind
from handlers import Handlers
from nudges.settings import NudgeSettings

from ..conftest import Chat, Clock, Database
from .conftest import Desk


async def test_console_user_sees_nudges_and_answers_them(
    db: Database, clock: Clock, policy: NudgeSettings, desk: Desk
) -> None:
    handlers = Handlers(db.sessions, admins=frozenset({"U_ADMIN"}), clock=clock, policy=policy)
    local = Chat(handlers, workspace=CONSOLE_WORKSPACE)
    for user in ("U_ADMIN", "U_LEAD", "U1"):
        await local.say(user, "mine")
    await local.say("U_ADMIN", "role U_LEAD lead")
    desk.chat = local
    await desk.ticket("Acme", tier="premium")
    await desk.tick(hours=4)

    out = io.StringIO()
    console = ConsoleChat(handlers, user_id="U1", name="u1", out=out, inbox=desk.inbox)

    def end_of_input() -> str:
        raise EOFError

    await console.run(end_of_input)  # EOF at once: prints the greeting and the inbox
    shown = out.getvalue()
    assert "📬 Ticket #1 (Acme: Export times out) has had no update for a while." in shown
    done_value = shown.split("[Done: /done ")[1].split("]")[0]
    reply = await console.say(f"/done {done_value}")
    assert reply is not None and not reply.error and reply.text.startswith("Done: stale follow-up recorded")
    async with db.sessions() as session:
        done = (
            await session.execute(select(NudgeEpisode.done_at).where(NudgeEpisode.kind == NudgeKind.STALE))
        ).scalar_one()
    assert done == clock.now
