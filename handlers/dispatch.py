"""`Handlers`: the one entry point every platform calls. One command, one transaction, one Reply."""

from __future__ import annotations

import difflib
import logging
import time
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import metrics
from db.clock import Clock
from db.models import Member, Workspace
from db.structured_logs import log_event
from nudges.settings import NudgeSettings
from ownership.errors import DomainError
from ownership.people import member_on_sight, workspace_on_sight

from .parsing import lex
from .ports import GestureMessages
from .registry import ACTIONS, COMMANDS, Context, help_reply
from .replies import ActionInvocation, Invocation, Reply

log = logging.getLogger(__name__)
SORRY = (
    "Something went wrong on our side and nothing was changed. Please try again; if it keeps failing, tell an admin."
)


Work = Callable[[Context], Awaitable[Reply]]


class Handlers:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        admins: frozenset[str] = frozenset(),
        clock: Clock,
        policy: NudgeSettings,
        gesture_messages: GestureMessages | None = None,
    ) -> None:
        self.sessions = sessions
        self.admins = admins
        self.clock = clock
        self.policy = policy
        self.gesture_messages = gesture_messages

    async def meet(self, session: AsyncSession, caller: Invocation | ActionInvocation) -> tuple[Workspace, Member]:
        """The caller's workspace and the caller, created or refreshed on first sight."""
        now = self.clock()
        ws: Workspace = await workspace_on_sight(
            session,
            platform=caller.platform,
            external_id=caller.workspace,
            name=caller.workspace_name if isinstance(caller, Invocation) else "",
            now=now,
        )
        actor: Member = await member_on_sight(
            session,
            workspace=ws,
            platform_user_id=caller.user_id,
            display_name=caller.user_name,
            time_zone=caller.time_zone,
            admins=self.admins,
            now=now,
        )
        return ws, actor

    async def greet(self, caller: Invocation | ActionInvocation) -> None:
        """Meet the caller in a transaction of their own (opening the console, asking for help)."""
        async with self.sessions() as session, session.begin():
            await self.meet(session, caller)

    async def _run(self, caller: Invocation | ActionInvocation, work: Work, *, what: str, name: str) -> Reply:
        """`_transaction`, measured: one structured log line and the command metrics (`name` is the command or
        action id, never the typed text)."""
        started = time.perf_counter()
        outcome = "error"
        try:
            reply, outcome = await self._transaction(caller, work, what=what)
            return reply
        finally:
            seconds = time.perf_counter() - started
            metrics.count_command(name, outcome, seconds)
            log_event(
                log,
                "command",
                name=name,
                outcome=outcome,
                seconds=seconds,
                workspace=f"{caller.platform.value}:{caller.workspace}",
                platform=caller.platform.value,
            )

    async def _transaction(self, caller: Invocation | ActionInvocation, work: Work, *, what: str) -> tuple[Reply, str]:
        """One transaction: meet the caller, then the work. When the work is refused, that transaction rolls
        back, so the caller is met again in one of their own: whoever talked to ownerbot stays known, and a
        command that succeeds (the usual case) costs one transaction. `what` names the work in logs (never the
        typed text: it may hold customers' words). Returns the reply and its outcome: ok, refused or error."""
        try:
            async with self.sessions() as session, session.begin():
                ws, actor = await self.meet(session, caller)
                ctx = Context(
                    session=session,
                    actor=actor,
                    workspace=ws,
                    platform=caller.platform,
                    now=self.clock(),
                    policy=self.policy,
                    channel_id=caller.channel_id,
                    gesture_messages=self.gesture_messages,
                )
                reply = await work(ctx)
        except DomainError as error:
            try:
                await self.greet(caller)
            except Exception:
                log.exception("could not record %s after a refused %s", "the caller", what)
            return Reply(error.message, error=True), "refused"
        except Exception:
            log.exception("%s failed", what)
            return Reply(SORRY, error=True), "error"
        await self._after_commit(ctx)
        return reply, "refused" if reply.error else "ok"

    async def _after_commit(self, ctx: Context) -> None:
        for work in ctx.after_commit:
            try:
                await work()
            except Exception:  # the change is committed; what failed here is retried by the ticker
                log.exception("work after commit failed")

    async def command(self, invocation: Invocation) -> Reply:
        async def work(ctx: Context) -> Reply:
            words = lex(invocation.text)
            name, args = (words[0].text.lower(), words[1:]) if words else ("help", [])
            found = COMMANDS.get(name)
            if found is not None:
                form, rest = found.pick(args)
                return await form.run(ctx, **await form.parse(ctx, rest))
            if name == "help":
                return help_reply([word.text for word in args])
            close = difflib.get_close_matches(name, list(COMMANDS), n=1)
            hint = f" Did you mean `{close[0]}`?" if close else ""
            return Reply(f"I don't know the command `{name[:40]}`.{hint} Type `help` for the list.", error=True)

        first = invocation.text[:40].split(maxsplit=1)[0].lower() if invocation.text.strip() else "help"
        known = first in COMMANDS or first == "help"
        return await self._run(
            invocation, work, what=f"command {first}" if known else "a command", name=first if known else "other"
        )

    async def action(self, act: ActionInvocation) -> Reply:
        run = ACTIONS.get(act.action_id)
        if run is None:
            metrics.count_command("other", "refused", 0.0)
            return Reply("That button is no longer supported.", error=True)
        return await self._run(act, lambda ctx: run(ctx, act), what=f"action {act.action_id}", name=act.action_id)
