"""Nudges in the terminal console: the inbox is shown at start, and the buttons work as `/done 12`."""

from __future__ import annotations

import io
from pathlib import Path

from sqlalchemy import select

from bot.console import CONSOLE_WORKSPACE, ConsoleChat, ConsoleNotifier
from db.models import NudgeEpisode, NudgeKind, Platform
from handlers import Handlers
from jobs.outbox_sender import OutboxSender
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


async def test_console_handoff_asks_for_a_missing_reason_and_the_receiver_finds_it_in_the_inbox(
    db: Database, clock: Clock, policy: NudgeSettings, tmp_path: Path
) -> None:
    """In the console as in chat: a handoff without a reason asks `?`, the next line answers it, and the offer
    waits in the receiver's inbox with its buttons (put there by the outbox sender, woken after the commit);
    opening the console is first sight."""
    inbox = ConsoleNotifier(tmp_path / "inbox")
    sender = OutboxSender(db.sessions, {Platform.CONSOLE: inbox}, clock)
    handlers = Handlers(db.sessions, admins=frozenset({"U1"}), clock=clock, policy=policy, wake_sender=sender.wake)

    async def session(user: str, name: str, lines: list[str]) -> str:
        out = io.StringIO()
        typed = iter(lines)

        def read_line() -> str:
            try:
                return next(typed)
            except StopIteration:
                raise EOFError from None

        await ConsoleChat(handlers, user_id=user, name=name, out=out, inbox=inbox).run(read_line)
        await sender.drain()
        return out.getvalue()

    await session("U2", "Sam", [])
    ana = await session(
        "U1",
        "Ana",
        [
            'customer add "Acme Corp" premium',
            "claim acme corp",
            'handoff "Acme Corp" @Sam',
            "she speaks German with their CTO",
        ],
    )
    assert "Why should Sam take Acme Corp?" in ana
    assert "Handoff of Acme Corp to @Sam requested" in ana
    sam = await session("U2", "Sam", ["/accept 1", "history acme corp"])
    assert "📬 @Ana wants to hand Acme Corp over to you." in sam and "[Accept: /accept 1]" in sam
    assert "You now own Acme Corp." in sam
    assert "Sam accepted it from Ana: she speaks German with their CTO (via console)" in sam
