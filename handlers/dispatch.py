"""`Handlers`: the one entry point every platform calls. One command, one transaction, one Reply."""

from __future__ import annotations

import difflib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import fields, replace
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import metrics, outbox
from db.clock import Clock
from db.models import Member, Workspace
from db.structured_logs import log_event
from nudges.settings import NudgeSettings
from ownership.errors import DomainError
from ownership.people import caller_on_sight
from ownership.text import storable

from .admission import BUSY, Admission, Busy
from .grammar import Scope
from .parsing import lex
from .prompts import looks_like_command
from .registry import ACTIONS, COMMANDS, Context, help_reply
from .replies import ActionInvocation, Invocation, Reply
from .reply_json import reply_to_json

log = logging.getLogger(__name__)
SORRY = (
    "Something went wrong on our side and nothing was changed. Please try again; if it keeps failing, tell an admin."
)


Work = Callable[[Context], Awaitable[Reply]]
# A face's own checks, run first in the command's transaction: a reply stops the command there (what the guard
# wrote commits with it); IGNORED stops it silently (a request already taken on: nobody is answered twice).
Guard = Callable[[AsyncSession], Awaitable[Reply | None]]
IGNORED = Reply("")
Caller = TypeVar("Caller", Invocation, ActionInvocation)


def storable_fields(caller: Caller) -> Caller:
    """Every text a platform handed in (typed text, button value, form answer, names, ids) without NUL or lone
    surrogates, which no database column can hold: whatever the platform, they never reach a query."""
    changes: dict[str, object] = {
        f.name: storable(value)
        for f in fields(caller)
        if isinstance(value := getattr(caller, f.name), str) and storable(value) != value
    }
    return replace(caller, **changes) if changes else caller  # type: ignore[arg-type]


class Handlers:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        admins: frozenset[str] = frozenset(),
        clock: Clock,
        policy: NudgeSettings,
        wake_sender: Callable[[], None] | None = None,
        admission: Admission | None = None,
    ) -> None:
        self.sessions = sessions
        # commands' transactions take turns (handlers.admission); faces put their own database work under it too
        self.admission = admission or Admission(slots=8, patience=60.0)
        self.admins = admins
        self.clock = clock
        self.policy = policy
        self.wake_sender = wake_sender  # the outbox sender, woken after a commit that owes messages

    async def meet(self, session: AsyncSession, caller: Invocation | ActionInvocation) -> tuple[Workspace, Member]:
        """The caller's workspace and the caller, created or refreshed on first sight."""
        return await caller_on_sight(
            session,
            platform=caller.platform,
            workspace_id=caller.workspace,
            workspace_name=caller.workspace_name if isinstance(caller, Invocation) else "",
            platform_user_id=caller.user_id,
            display_name=caller.user_name,
            time_zone=caller.time_zone,
            admins=self.admins,
            now=self.clock(),
        )

    async def greet(self, caller: Invocation | ActionInvocation) -> None:
        """Meet the caller in a transaction of their own (opening the console, asking for help)."""
        async with self.sessions() as session, session.begin():
            await self.meet(session, caller)

    async def _run(
        self, caller: Invocation | ActionInvocation, work: Work, *, what: str, name: str, guard: Guard | None = None
    ) -> Reply:
        """`_transaction`, measured: one structured log line and the command metrics (`name` is the command or
        action id, never the typed text)."""
        started = time.perf_counter()
        outcome = "error"
        try:
            async with self.admission.turn():
                reply, outcome = await self._transaction(caller, work, what=what, guard=guard)
            return reply
        except Busy:
            outcome = "busy"
            return Reply(BUSY, error=True)
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

    async def _transaction(
        self, caller: Invocation | ActionInvocation, work: Work, *, what: str, guard: Guard | None = None
    ) -> tuple[Reply, str]:
        """One transaction: the face's guard, meet the caller, then the work. When the work is refused, that
        transaction rolls back, so the caller is met again in one of their own: whoever talked to ownerbot stays
        known, and a command that succeeds (the usual case) costs one transaction. `what` names the work in logs
        (never the typed text: it may hold customers' words). Returns the reply and its outcome: ok, refused,
        ignored or error."""
        try:
            try:
                reply, ctx, owed = await self._attempt(caller, work, guard)
            except DBAPIError as error:  # a pooled connection died (a database restart or failover): nothing was
                if not error.connection_invalidated:  # committed, and the pool has dropped its old connections
                    raise
                log.warning("the database connection was lost during %s; trying once more", what)
                reply, ctx, owed = await self._attempt(caller, work, guard)
        except DomainError as error:
            try:
                await self.greet(caller)
            except Exception:
                log.exception("could not record %s after a refused %s", "the caller", what)
            return Reply(error.message, error=True), "refused"
        except Exception:
            log.exception("%s failed", what)
            return Reply(SORRY, error=True), "error"
        if ctx is None:  # the guard stopped it
            return reply, "ignored" if reply is IGNORED else "refused"
        if owed and self.wake_sender is not None:
            self.wake_sender()  # sends in the background: the invoker's reply never waits for other messages
        await self._after_commit(ctx)
        return reply, "refused" if reply.error else "ok"

    async def _attempt(
        self, caller: Invocation | ActionInvocation, work: Work, guard: Guard | None
    ) -> tuple[Reply, Context | None, bool]:
        """The transaction itself: (reply, its context or None when the guard stopped it, whether it owes
        messages the outbox sender should be woken for)."""
        async with self.sessions() as session, session.begin():
            stopped = await guard(session) if guard is not None else None
            if stopped is not None:
                return stopped, None, False
            ws, actor = await self.meet(session, caller)
            ctx = Context(
                session=session,
                actor=actor,
                workspace=ws,
                platform=caller.platform,
                now=self.clock(),
                policy=self.policy,
                channel_id=caller.channel_id,
            )
            reply = await work(ctx)
            await owe_notices(ctx, caller, reply)
            return reply, ctx, outbox.owes_messages(session)

    async def _after_commit(self, ctx: Context) -> None:
        for work in ctx.after_commit:
            try:
                await work()
            except Exception:  # the change is committed; what failed here is retried by the ticker
                log.exception("work after commit failed")

    async def command(self, invocation: Invocation, guard: Guard | None = None) -> Reply:
        invocation = storable_fields(invocation)

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
            invocation,
            work,
            what=f"command {first}" if known else "a command",
            name=first if known else "other",
            guard=guard,
        )

    async def action(self, act: ActionInvocation, guard: Guard | None = None) -> Reply:
        act = storable_fields(act)
        run = ACTIONS.get(act.action_id)
        if run is None:
            metrics.count_command("other", "refused", 0.0)
            return Reply("That button is no longer supported.", error=True)
        return await self._run(
            act, lambda ctx: run(ctx, act), what=f"action {act.action_id}", name=act.action_id, guard=guard
        )

    async def looks_like_command(self, caller: Invocation) -> bool:
        """Whether a line typed as a prompt's answer reads as a command (`handlers.prompts`); reads only."""
        async with self.sessions() as session:
            workspace_id = await session.scalar(
                select(Workspace.id).where(
                    Workspace.platform == caller.platform, Workspace.external_id == caller.workspace
                )
            )
            scope = Scope(session, workspace_id) if workspace_id is not None else None
            return await looks_like_command(scope, caller.text)


async def owe_notices(ctx: Context, caller: Invocation | ActionInvocation, reply: Reply) -> None:
    """The reply's notices (a handoff offer to its receiver, the outcome to the offerer) become outbox rows in
    the command's own transaction: committed with the change, or not at all. When one can never be delivered,
    the invoker is told (once, through the outbox too)."""
    for notice in reply.notices:
        await outbox.enqueue(
            ctx.session,
            key=f"notice:{uuid.uuid4().hex}",
            platform=caller.platform,
            workspace=caller.workspace,
            target=notice.to_user_id,
            direct=True,
            purpose="notice",
            content=reply_to_json(notice.reply),
            tell_on_failure=[caller.user_id],
            now=ctx.now,
        )
