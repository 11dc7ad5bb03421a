"""`ownerbot chat --as <user-id>`: a terminal chat with the same commands against the same database."""
from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from typing import TextIO

from ownerbot.db.models import Platform
from ownerbot.handlers import ActionId, ActionInvocation, Handlers, Invocation, Reply

CONSOLE_WORKSPACE = "local"


def render(reply: Reply) -> str:
    lines = [("! " if reply.error else "") + reply.text]
    lines += [f"  {label}: {value}" for label, value in reply.fields]
    if reply.buttons:
        lines.append("  buttons: " + "  ".join(f"[{b.label}: /{b.action_id.rsplit('.', 1)[-1]} {b.value}]" for b in reply.buttons))
    return "\n".join(lines)


class ConsoleChat:
    """Reads commands from a stream, prints replies; notices for other people are shown as 'to <id>'."""

    def __init__(self, handlers: Handlers, *, user_id: str, name: str, out: TextIO = sys.stdout) -> None:
        self.handlers = handlers
        self.user_id = user_id
        self.name = name
        self.out = out
        self.pending_prompt: tuple[str, str] | None = None

    def _print(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def _show(self, reply: Reply) -> None:
        self._print(render(reply))
        for notice in reply.notices:
            self._print(f"  → to {notice.to_user_id}: " + render(notice.reply).replace("\n", "\n    "))
        if reply.prompt:
            self.pending_prompt = (reply.prompt.submit_action_id, reply.prompt.value)
            self._print(f"  ? {reply.prompt.label} (type the answer, or an empty line to cancel)")

    async def say(self, line: str) -> Reply | None:
        line = line.strip()
        if self.pending_prompt is not None:
            action_id, value = self.pending_prompt
            self.pending_prompt = None
            if not line:
                self._print("Cancelled.")
                return None
            return await self._act(action_id, value, line)
        if not line:
            return None
        if line.startswith("/accept ") or line.startswith("/decline "):
            verb, value = line[1:].split(maxsplit=1)
            action = ActionId.ACCEPT_HANDOFF if verb == "accept" else ActionId.DECLINE_HANDOFF
            return await self._act(action, value.strip(), None)
        reply = await self.handlers.command(
            Invocation(platform=Platform.CONSOLE, workspace=CONSOLE_WORKSPACE, user_id=self.user_id,
                       user_name=self.name, text=line, channel_id="console")
        )
        self._show(reply)
        return reply

    async def _act(self, action_id: str, value: str, typed: str | None) -> Reply:
        reply = await self.handlers.action(
            ActionInvocation(platform=Platform.CONSOLE, workspace=CONSOLE_WORKSPACE, user_id=self.user_id,
                             user_name=self.name, action_id=action_id, value=value, input=typed)
        )
        self._show(reply)
        return reply

    async def run(self, read_line: Callable[[], str]) -> None:
        self._print(f"ownerbot console as {self.name} ({self.user_id}). Type `help`, or `quit` to leave.")
        while True:
            try:
                line = await asyncio.to_thread(read_line)
            except EOFError:
                return
            if line.strip().lower() in ("quit", "exit"):
                return
            await self.say(line)
