"""The one sender of everything ownerbot says on its own: it claims due outbox rows under a lease
(`db.outbox.claim_due`), renders each for its platform through that platform's `Notifier`, sends, and marks it
sent with the platform's message id right after the platform answers (so later updates edit it in place).

It runs on every tick of the ticker, and is woken right after a commit that owes messages (`wake`), in the
background: the invoker's own reply never waits for it. Retries back off (or honour the platform's Retry-After);
a permanent failure (not in the channel, channel or user gone, app uninstalled, a Teams user who never talked to
the bot) is marked failed, and the people named on the row (the offerer, the proposer and the lead, the
recipient's lead) are told once, through the outbox.

Exactly-once where the platform allows it; the window where it does not: a process that dies after the platform
accepted a message and before `mark_sent` committed sends that one message again after the lease (`db.outbox`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import metrics, outbox
from db.clock import Clock
from db.models import Platform
from gestures.outbox import RENDER_KIND
from handlers.ports import SENDING_PURPOSE, DeliveryFailed, MessageRef, Notifier
from handlers.replies import Reply
from handlers.reply_json import reply_from_json, reply_to_json

from .gesture_sender import render_gesture
from .nudge_handover import PURPOSES as NUDGE_PURPOSES
from .nudge_handover import nudge_failed, nudge_sent

log = logging.getLogger(__name__)
RETRY_WHEN_PLATFORM_OFF = 300.0
FAILED_PURPOSE = "delivery-failed"

# Something to draw at send time: "gesture:12:card" -> the renderer registered for "gesture" (None: nothing to say).
Renderer = Callable[[AsyncSession, outbox.Claimed, datetime], Awaitable[Reply | None]]
# Told after a permanent failure, in the transaction that marks it (e.g. nudges mark their deliveries failed),
# and after a send, in the transaction that marks it sent (nudges note where their message lives).
FailureHook = Callable[[AsyncSession, outbox.Claimed, str, datetime], Awaitable[None]]
SentHook = Callable[[AsyncSession, outbox.Claimed, MessageRef, datetime], Awaitable[None]]

WHAT = {
    "notice": "a message",
    "gesture-card": "the gesture card",
    "gesture-outcome": "the gesture's outcome",
    "gesture-dm": "a gesture message",
    "nudge": "a nudge",
    "digest": "the daily digest",
}


RENDERERS: dict[str, Renderer] = {RENDER_KIND: render_gesture}
FAILURE_HOOKS: dict[str, FailureHook] = dict.fromkeys(NUDGE_PURPOSES, nudge_failed)
SENT_HOOKS: dict[str, SentHook] = dict.fromkeys(NUDGE_PURPOSES, nudge_sent)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass
class SendReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0
    lost_lease: int = 0

    def add(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)


def failure_notice(row: outbox.Claimed, error: str) -> Reply:
    what = WHAT.get(row.purpose, "a message")
    where = f"<@{row.target}>" if row.direct else f"the channel {row.target}"
    return Reply(
        f"I could not deliver {what} to {where}: {error}. Please tell them yourself, or fix it and try again.",
        error=True,
    )


@dataclass
class OutboxSender:
    """Sends due outbox rows; several processes may run one each against one PostgreSQL."""

    sessions: async_sessionmaker[AsyncSession]
    notifiers: Mapping[Platform, Notifier]  # the runtime's mapping, filled as each face registers
    clock: Clock
    worker: str = field(default_factory=worker_name)
    batch: int = 500
    lease: timedelta = outbox.LEASE
    concurrency: int = 64  # messages in flight at once (one at a time per recipient or channel, in order)
    renderers: dict[str, Renderer] = field(default_factory=lambda: dict(RENDERERS))
    on_failure: dict[str, FailureHook] = field(default_factory=lambda: dict(FAILURE_HOOKS))  # by purpose
    on_sent: dict[str, SentHook] = field(default_factory=lambda: dict(SENT_HOOKS))
    _task: asyncio.Task[None] | None = None
    _again: bool = False
    _marks: SentMarks = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._marks = SentMarks(self)

    # --- waking -------------------------------------------------------------------------------------------
    def wake(self) -> None:
        """Send what is due now, in the background (called right after a commit that owes messages)."""
        self._again = True
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run_woken())

    async def _run_woken(self) -> None:
        while self._again:
            self._again = False
            try:
                await self.send_due()
            except Exception:  # the ticker tries again; a woken run must never take the server down
                log.exception("outbox sender failed; the next tick tries again")

    async def drain(self) -> None:
        """Wait until the woken sender is idle (tests, graceful shutdown)."""
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)

    async def tick(self) -> SendReport:
        return await self.send_due()

    # --- sending --------------------------------------------------------------------------------------------
    async def send_due(self) -> SendReport:
        """Claim and send batches until nothing is due."""
        report = SendReport()
        while True:
            async with self.sessions() as session, session.begin():
                claimed = await outbox.claim_due(
                    session, now=self.clock(), worker=self.worker, limit=self.batch, lease=self.lease
                )
            if not claimed:
                return report
            lanes: dict[tuple[Platform, str, str], list[outbox.Claimed]] = {}
            for row in claimed:
                lanes.setdefault((row.platform, row.workspace, row.target), []).append(row)
            gate = asyncio.Semaphore(self.concurrency)
            await asyncio.gather(*(self._lane(rows, gate, report) for rows in lanes.values()))

    async def _lane(self, rows: list[outbox.Claimed], gate: asyncio.Semaphore, report: SendReport) -> None:
        """One recipient's or channel's messages, in order."""
        async with gate:
            for row in rows:
                started = time.perf_counter()
                outcome = await self.send_one(row)
                report.add(outcome)
                seconds = time.perf_counter() - started
                metrics.count_delivery(
                    row.platform.value, row.purpose, outcome, seconds=seconds, workspace=row.workspace
                )

    async def _render(self, row: outbox.Claimed) -> Reply | None:
        if row.content is not None:
            return reply_from_json(row.content)
        kind = (row.render or "").split(":", 1)[0]
        renderer = self.renderers.get(kind)
        if renderer is None:
            raise DeliveryFailed(f"nothing renders {kind!r} messages on this server", retry_after=300)
        async with self.sessions() as session:
            return await renderer(session, row, self.clock())

    async def send_one(self, row: outbox.Claimed) -> str:
        """Render, send, mark. Returns sent / retried / failed / skipped / lost_lease."""
        try:
            reply = await self._render(row)
            if reply is None:
                return await self._fail(row, "nothing to say any more", skipped=True)
            notifier = self.notifiers.get(row.platform)
            if notifier is None:
                raise DeliveryFailed(f"{row.platform.value} is off on this server", retry_after=RETRY_WHEN_PLATFORM_OFF)
            purpose = SENDING_PURPOSE.set(row.purpose)
            try:
                if row.edits_message_id is not None:
                    ref = MessageRef(row.platform, row.workspace, row.edits_channel or row.target, row.edits_message_id)
                    await notifier.update(ref=ref, reply=reply)
                elif row.direct:
                    ref = await notifier.send_direct(workspace=row.workspace, user_id=row.target, reply=reply)
                else:
                    ref = await notifier.post_channel(workspace=row.workspace, channel_id=row.target, reply=reply)
            finally:
                SENDING_PURPOSE.reset(purpose)
        except DeliveryFailed as error:
            if error.permanent:
                log.warning("outbox %s (%s) failed for good: %s", row.id, row.purpose, error)
                return await self._fail(row, str(error))
            return await self._retry(row, str(error), error.retry_after)
        except Exception as error:  # a bug or a network error in a notifier: try again later, never drop
            log.exception("outbox %s (%s): notifier error", row.id, row.purpose)
            return await self._retry(row, f"{type(error).__name__}: {error}", None)
        try:
            held = await self._marks.sent(row, ref)  # right after the platform answered
        except Exception:  # not marked: the lease runs out and it is sent again (the documented window)
            log.exception("outbox %s was sent but could not be marked sent", row.id)
            held = False
        return "sent" if held else "lost_lease"

    async def _retry(self, row: outbox.Claimed, error: str, retry_after: float | None) -> str:
        async with self.sessions() as session, session.begin():
            held = await outbox.mark_retry(
                session,
                message_id=row.id,
                worker=self.worker,
                now=self.clock(),
                wait=outbox.backoff(row.attempts, retry_after),
                error=error,
            )
        return "retried" if held else "lost_lease"

    async def _fail(self, row: outbox.Claimed, error: str, *, skipped: bool = False) -> str:
        now = self.clock()
        async with self.sessions() as session, session.begin():
            held = await outbox.mark_failed(
                session, message_id=row.id, worker=self.worker, now=now, error=error, skipped=skipped
            )
            if not held:
                return "lost_lease"
            if skipped:
                return "skipped"
            hook = self.on_failure.get(row.purpose)
            if hook is not None:
                await hook(session, row, error, now)
            if row.purpose != FAILED_PURPOSE:  # telling someone failed too: it stays listed on the dashboard
                content = reply_to_json(failure_notice(row, error))
                for person in row.tell_on_failure:
                    await outbox.enqueue(
                        session,
                        key=f"failed:{row.id}:{person}",
                        platform=row.platform,
                        workspace=row.workspace,
                        target=person,
                        direct=True,
                        purpose=FAILED_PURPOSE,
                        content=content,
                        now=now,
                    )
        return "failed"


class SentMarks:
    """Group commit of "marked sent": a message the platform answered is marked in the next transaction that
    starts, together with the others answered meanwhile (one commit for many, instead of one each). Its lane
    waits for that commit before its next message, so the window where a crash repeats a message stays one
    short transaction wide."""

    def __init__(self, sender: OutboxSender) -> None:
        self.sender = sender
        self.waiting: list[tuple[outbox.Claimed, MessageRef, asyncio.Future[bool]]] = []
        self.committing: asyncio.Task[None] | None = None

    async def sent(self, row: outbox.Claimed, ref: MessageRef) -> bool:
        """Returns whether this sender still held the row (else another took it over after the lease)."""
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self.waiting.append((row, ref, done))
        if self.committing is None or self.committing.done():
            self.committing = asyncio.create_task(self._commit())
        return await done

    async def _commit(self) -> None:
        sender = self.sender
        while self.waiting:
            batch, self.waiting = self.waiting, []
            try:
                now = sender.clock()
                async with sender.sessions() as session, session.begin():
                    kept_ids = await outbox.mark_sent_many(
                        session,
                        worker=sender.worker,
                        now=now,
                        sent=[(row.id, ref.message_id, ref.channel_id) for row, ref, _ in batch],
                    )
                    for row, ref, _ in batch:
                        hook = sender.on_sent.get(row.purpose)
                        if row.id in kept_ids and hook is not None:
                            await hook(session, row, ref, now)
                held = [row.id in kept_ids for row, _, _ in batch]
            except Exception as error:  # the lease runs out and the message is sent again: the documented window
                for _, _, done in batch:
                    done.set_exception(error)
                continue
            for (_, _, done), kept in zip(batch, held, strict=True):
                done.set_result(kept)
