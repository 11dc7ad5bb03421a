"""`ownerbot chat --as <user-id>`: a terminal chat with the same commands against the same database."""

from __future__ import annotations

import asyncio
import fcntl
import json
import sys
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import select

from db.models import Member, Platform, Workspace
from handlers import ActionId, ActionInvocation, Handlers, Invocation, Reply
from handlers.ports import SENDING_PURPOSE, MessageRef
from handlers.prompts import CANCEL, TypedPrompt
from handlers.replies import MOMENT, PERSON, moments_in_zone, people_named

from .console_inbox import OLDER, ConsoleReader, InboxMessage

CONSOLE_WORKSPACE = "local"
# Buttons by the last part of their action id, as `render` shows them: [Done: /done 12]
BUTTONS = {value.rsplit(".", 1)[-1]: value for name, value in vars(ActionId).items() if name.isupper()}


def render(reply: Reply) -> str:
    lines = [("! " if reply.error else "") + reply.text]
    lines += [f"  {label}: {value}" for label, value in reply.fields]
    if reply.buttons:
        lines.append(
            "  buttons: "
            + "  ".join(f"[{b.label}: /{b.action_id.rsplit('.', 1)[-1]} {b.value}]" for b in reply.buttons)
        )
    return "\n".join(lines)


def shown(message: InboxMessage) -> str:
    """📬 a direct message, 📢 a post in a team's channel; "(updated)": shown before, this is how it reads now."""
    mark = "📢" if message.channel else "📬"
    where = f"#{message.channel} " if message.channel else ""
    again = "(updated) " if message.updated else ""
    return f"{mark} {where}{again}" + render(message.reply).replace("\n", "\n   ")


class ConsoleNotifier:
    """The console's Notifier: messages land in an inbox folder, one JSON line per delivery.

    `ownerbot chat --as U1` shows U1's inbox (direct messages and channel posts) when it starts, so a team can
    try nudges and gesture votes with no Slack or Teams. Appends are locked, so several processes can share it.
    """

    platform = Platform.CONSOLE

    def __init__(self, inbox: Path) -> None:
        self.inbox = inbox

    def _append(self, box: str, record: dict[str, Any]) -> None:
        self.inbox.mkdir(parents=True, exist_ok=True)
        path = self.inbox / f"{box}.jsonl"
        with path.open("a", encoding="utf-8") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            handle.write(json.dumps(record, default=str) + "\n")
            handle.flush()
            fcntl.flock(handle, fcntl.LOCK_UN)

    async def _deliver(self, box: str, kind: str, reply: Reply, message_id: str | None = None) -> MessageRef:
        message_id = message_id or uuid.uuid4().hex
        # "purpose": what the outbox sent (notice, nudge, digest …), None when sent directly
        record = {
            "kind": kind,
            "message_id": message_id,
            "box": box,
            "purpose": SENDING_PURPOSE.get(),
            "reply": asdict(reply),
        }
        await asyncio.to_thread(self._append, box, record)
        return MessageRef(Platform.CONSOLE, CONSOLE_WORKSPACE, box, message_id)

    async def send_direct(self, *, workspace: str, user_id: str, reply: Reply) -> MessageRef:
        return await self._deliver(f"user-{user_id}", "direct", reply)

    async def post_channel(self, *, workspace: str, channel_id: str, reply: Reply) -> MessageRef:
        return await self._deliver(f"channel-{channel_id}", "channel", reply)

    async def update(self, *, ref: MessageRef, reply: Reply) -> None:
        await self._deliver(ref.channel_id, "update", reply, message_id=ref.message_id)

    def read(self, box: str) -> list[dict[str, Any]]:
        path = self.inbox / f"{box}.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


class ConsoleChat:
    """Reads commands from a stream, prints replies; notices for other people are shown as 'to <id>'."""

    def __init__(
        self,
        handlers: Handlers,
        *,
        user_id: str,
        name: str,
        out: TextIO = sys.stdout,
        inbox: ConsoleNotifier | None = None,
        settle: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.handlers = handlers
        self.settle = settle  # waits for the outbox sender the command woke, so its card shows on the next line
        self.user_id = user_id
        self.name = name
        self.out = out
        self.pending_prompt: TypedPrompt | None = None
        self.inbox = inbox
        self.reader = (
            ConsoleReader(
                handlers.sessions, inbox.read, workspace=CONSOLE_WORKSPACE, user_id=user_id, clock=handlers.clock
            )
            if inbox is not None
            else None
        )

    async def show_new(self) -> int:
        """Print what arrived in this member's inbox and their teams' channels since they last looked."""
        if self.reader is None:
            return 0
        messages = await self.reader.unread()
        for message in messages:
            await self._out(shown(message))
        return len(messages)

    async def show_older(self, words: list[str]) -> None:
        """`inbox older [N]`: the last N messages already read (`inbox`: what is new)."""
        if self.reader is None:
            self._print("! This console has no inbox.")
            return
        if words[:1] != ["older"] or len(words) > 2 or (len(words) == 2 and not words[1].isdigit()):
            if words:
                self._print("! Type `inbox` for what is new, or `inbox older [N]` for the last N you read.")
            elif not await self.show_new():
                self._print("Nothing new since you last looked. `inbox older` lists what you read before.")
            return
        messages = await self.reader.older(int(words[1]) if len(words) == 2 else OLDER)
        for message in messages:
            await self._out(shown(message))
        if not messages:
            self._print("Nothing read before.")

    def _print(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    async def _out(self, text: str) -> None:
        """Print text the handlers wrote: people as `@Name`, moments in this member's zone (UTC if none)."""
        if PERSON.search(text) or MOMENT.search(text):
            async with self.handlers.sessions() as session:
                rows = (
                    await session.execute(
                        select(Member.platform_user_id, Member.display_name, Member.time_zone)
                        .join(Workspace, Workspace.id == Member.workspace_id)
                        .where(Workspace.platform == Platform.CONSOLE, Workspace.external_id == CONSOLE_WORKSPACE)
                    )
                ).all()
            names = {row[0]: row[1] for row in rows}
            zone = next((row[2] for row in rows if row[0] == self.user_id), None)
            text = people_named(moments_in_zone(text, zone), names)
        self._print(text)

    async def _show(self, reply: Reply) -> None:
        """Print the reply, and what it owes other people: the outbox sender puts those notices in their console
        inboxes, as it DMs them on Slack and Teams."""
        await self._out(render(reply))
        for notice in reply.notices:
            await self._out(f"  → to {notice.to_user_id}: " + render(notice.reply).replace("\n", "\n    "))
        if reply.prompt:
            self.pending_prompt = TypedPrompt(reply.prompt)
            self._ask(reply.prompt.label)

    def _ask(self, label: str) -> None:
        self._print(f"  ? {label} (type the answer, or `{CANCEL}`)")

    async def _answer(self, pending: TypedPrompt, line: str) -> Reply | None:
        """A typed line while a prompt is open: `cancel`, a refusal that asks again, or the answer."""
        if line.lower() == CANCEL:
            self.pending_prompt = None
            self._print("Cancelled; nothing changed.")
            return None
        command_like = await self.handlers.looks_like_command(self._invocation(line))
        refusal = pending.refusal(line, command_like=command_like)
        if refusal is None:
            self.pending_prompt = None
            return await self._act(pending.prompt.submit_action_id, pending.prompt.value, line)
        self._print("! " + refusal)
        if pending.refused():
            self.pending_prompt = None
            self._print(f"Cancelled after {pending.tries} tries; nothing changed.")
        else:
            self._ask(pending.prompt.label)
        return None

    async def say(self, line: str) -> Reply | None:
        line = line.strip()
        if self.pending_prompt is not None:
            return await self._answer(self.pending_prompt, line)
        if not line:
            return None
        if line.split(maxsplit=1)[0].lower() == "inbox":
            await self.show_older(line.lower().split()[1:])
            return None
        if line.startswith(("/accept ", "/decline ")):
            verb, value = line[1:].split(maxsplit=1)
            action = ActionId.ACCEPT_HANDOFF if verb == "accept" else ActionId.DECLINE_HANDOFF
            return await self._act(action, value.strip(), None)
        if line.startswith("/") and " " in line:  # any other button, as rendered: `/snooze 12:1h`, `/done 12`
            verb, value = line[1:].split(maxsplit=1)
            button = BUTTONS.get(verb)
            if button is not None:
                return await self._act(button, value.strip(), None)
        reply = await self.handlers.command(self._invocation(line))
        await self._show(reply)
        return reply

    def _invocation(self, text: str) -> Invocation:
        return Invocation(
            platform=Platform.CONSOLE,
            workspace=CONSOLE_WORKSPACE,
            user_id=self.user_id,
            user_name=self.name,
            text=text,
            channel_id="console",
        )

    async def _act(self, action_id: str, value: str, typed: str | None) -> Reply:
        reply = await self.handlers.action(
            ActionInvocation(
                platform=Platform.CONSOLE,
                workspace=CONSOLE_WORKSPACE,
                user_id=self.user_id,
                user_name=self.name,
                action_id=action_id,
                value=value,
                input=typed,
            )
        )
        await self._show(reply)
        return reply

    async def run(self, read_line: Callable[[], str]) -> None:
        self._print(
            f"ownerbot console as {self.name} ({self.user_id}). Type `help`, `inbox older` for messages you read "
            "before, or `quit` to leave."
        )
        # opening the console is first sight: from now on others can hand customers to this person
        await self.handlers.greet(self._invocation(""))
        await self.show_new()
        while True:
            try:
                line = await asyncio.to_thread(read_line)
            except EOFError:
                return
            if line.strip().lower() in ("quit", "exit"):
                return
            await self.say(line)
            if self.settle is not None:
                await self.settle()
            await self.show_new()  # what arrived meanwhile: a card the command posted, others' messages
