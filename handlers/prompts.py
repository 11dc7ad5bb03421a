"""A prompt answered by typing a line, where no modal or card holds the question (the console): the rules.

- `cancel` ends the prompt; nothing changes.
- An answer that looks like a command (`handoff "Acme Corp" @Sam busy`, `/accept 1`, `mine`) is refused with
  "that looks like a command; type the reason, or `cancel`", and the question stays open.
- An answer too short (an empty line too) or too long is refused, and the question is asked again, up to
  MAX_TRIES times; then the prompt ends, and says so.

A line looks like a command when it starts with `/`, or its first word is a command's name and what follows
reads as that command: one of its sub-verbs (`ticket show 12`), nothing at all (`mine`, `accept`), or a first
argument that resolves (a customer, a person, a number, a choice: `claim acme corp`). "customer wants a German
speaker" is a reason: `customer` is a command, but "wants" is none of its verbs.
"""

from __future__ import annotations

from dataclasses import dataclass

from ownership.errors import DomainError, InvalidInput

from .grammar import Arg, MissingArgument, Scope, Together
from .parsing import lex
from .registry import COMMANDS
from .replies import Prompt

MAX_TRIES = 3
CANCEL = "cancel"


def looks_like_command_message(prompt: Prompt) -> str:
    return f"that looks like a command; type the {prompt.noun}, or `{CANCEL}`"


async def looks_like_command(scope: Scope | None, text: str) -> bool:
    """Whether a prompt's typed answer reads as a command (see the module's rules). `scope`: where names are
    resolved; None when the caller's workspace is not known yet (then only the words decide)."""
    stripped = text.strip()
    if stripped.startswith("/"):
        return True
    try:
        words = lex(stripped)
    except InvalidInput:
        return False
    if not words or words[0].quoted:
        return False
    name = words[0].text.lower()
    if name == "help":
        return len(words) == 1 or words[1].text.lower() in COMMANDS
    found = COMMANDS.get(name)
    if found is None:
        return False
    try:
        form, rest = found.pick(words[1:])
    except MissingArgument:
        return True  # `wow`, `ticket`: the command word alone
    except InvalidInput:
        return False  # `customer wants …`: not one of its verbs
    if form is not found.form or not rest:
        return True  # a sub-verb (`ticket show 12`), or the command alone (`mine`, `claim`)
    first = form.args[0] if form.args else None
    if isinstance(first, Together):
        first = first.args[0]
    if not isinstance(first, Arg) or first.rest or scope is None:
        return False  # `mine is …`: that command takes no words; free text first: can't tell, so an answer
    try:
        _, used = await first.take(scope, rest, len(rest), last=False)
    except DomainError:
        return False  # `claim was wrong`: no customer called "was wrong"
    return used > 0


@dataclass
class TypedPrompt:
    """One open question in a face without modals, and how many answers it refused so far."""

    prompt: Prompt
    tries: int = 0

    def refusal(self, text: str, *, command_like: bool) -> str | None:
        """Why this answer is not taken (None: it is). `text`: the typed line, `cancel` already handled."""
        if command_like:
            return looks_like_command_message(self.prompt)
        length = len(" ".join(text.split()))
        least = max(self.prompt.min_length, 1)
        if length < least:
            got = "Nothing typed" if not length else f"That is {length} character(s)"
            return f"{got}; the {self.prompt.noun} needs at least {least}. Type it, or `{CANCEL}`."
        if length > self.prompt.max_length:
            return f"That is {length} characters; keep it under {self.prompt.max_length}, or type `{CANCEL}`."
        return None

    def refused(self) -> bool:
        """Count one refused answer; True when that was the last try and the prompt ends."""
        self.tries += 1
        return self.tries >= MAX_TRIES
