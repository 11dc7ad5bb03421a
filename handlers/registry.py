"""Commands and actions register here once; every platform reaches them through `Handlers`.

A command declares its arguments with the kinds in `grammar`; the registry parses and resolves them, writes
every usage line and `help`, and calls the command function with keyword arguments:

    @command("handoff", CustomerRef(), MemberRef("to"), Reason(minimum=10), summary="…", group="Ownership")
    async def handoff(ctx: Context, *, customer: Customer, to: Member, reason: str) -> Reply: ...

A command with sub-verbs declares each one (`wow vote <id> <yes|no>`), and optionally what runs when the first
word is none of them (`wow <customer> <gesture…>`):

    WOW = command_with_verbs("wow", summary="…", group="Frugal wow")

    @WOW.verb("vote", Number("id", parse=parse_proposal_id), Choice("choice", ("yes", "no")))
    async def vote(ctx: Context, *, id: int, choice: str) -> Reply: ...
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Member, Platform, Workspace
from nudges.settings import NudgeSettings
from ownership.errors import InvalidInput

from .grammar import Arg, Flag, MissingArgument, Option, Positional, Scope, Together, parse_words
from .parsing import Word, or_list
from .replies import ActionInvocation, Reply


@dataclass
class Context:
    """What a command runs with: one session inside one transaction, the acting member, `now`, and the nudge
    policy of this server."""

    session: AsyncSession
    actor: Member
    workspace: Workspace
    platform: Platform
    now: datetime
    policy: NudgeSettings
    channel_id: str | None = None
    # For work after the transaction commits: a command appends a coroutine function; Handlers awaits each one
    # after commit, and never after a rollback. (Messages for others are outbox rows, not work here.)
    after_commit: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    @property
    def scope(self) -> Scope:
        return Scope(self.session, self.workspace.id)


CommandFn = Callable[..., Awaitable[Reply]]  # (ctx, **declared arguments)
ActionFn = Callable[[Context, ActionInvocation], Awaitable[Reply]]


@dataclass(frozen=True)
class Form:
    """One way to call a command: its words (`wow vote`), declared arguments and options, and what runs."""

    path: str
    args: tuple[Positional, ...]
    options: tuple[Option | Flag, ...]
    run: CommandFn
    summary: str = ""

    @property
    def tail(self) -> str:
        shown = [a.usage() for a in self.args] + [o.usage() for o in self.options if o.shown]
        return " ".join(shown)

    @property
    def usage(self) -> str:
        return f"{self.path} {self.tail}".strip()

    def notes(self) -> list[tuple[str, str]]:
        args = [inner for a in self.args for inner in (a.args if isinstance(a, Together) else (a,))]
        notes = [(a.usage().strip("<>[]"), a.note) for a in args if a.note]
        notes += [(f"--{o.name}", o.note if isinstance(o, Flag) else o.help()) for o in self.options if o.shown]
        return notes

    async def parse(self, ctx: Context, words: list[Word]) -> dict[str, object]:
        return await parse_words(ctx.scope, self.args, self.options, words, self.usage)


def _split(
    declared: tuple[Arg | Together | Option | Flag, ...],
) -> tuple[tuple[Positional, ...], tuple[Option | Flag, ...]]:
    args = tuple(d for d in declared if isinstance(d, Arg | Together))
    options = tuple(d for d in declared if isinstance(d, Option | Flag))
    return args, options


@dataclass
class Command:
    name: str
    summary: str
    group: str
    form: Form | None = None  # the command's own arguments; with verbs: what runs when no verb matches
    verbs: dict[str, Form] = field(default_factory=dict)

    @property
    def forms(self) -> list[Form]:
        return ([self.form] if self.form else []) + list(self.verbs.values())

    @property
    def usage(self) -> str:
        """Every form; sub-verbs with the same arguments side by side: `ticket pending|reopen|resolve <id>`."""
        lines: list[tuple[str, str]] = []
        for word, form in self.verbs.items():
            if lines and lines[-1][1] == form.tail:
                lines[-1] = (f"{lines[-1][0]}|{word}", form.tail)
            else:
                lines.append((f"{self.name} {word}", form.tail))
        shown = [f"{words} {tail}".strip() for words, tail in lines]
        return " · ".join(([self.form.usage] if self.form else []) + shown)

    def verb(
        self, word: str, *declared: Arg | Together | Option | Flag, summary: str = ""
    ) -> Callable[[CommandFn], CommandFn]:
        def register(fn: CommandFn) -> CommandFn:
            if word in self.verbs:
                raise RuntimeError(f"{self.name} {word} registered twice")
            self.verbs[word] = Form(f"{self.name} {word}", *_split(declared), fn, summary)
            return fn

        return register

    def otherwise(
        self, *declared: Arg | Together | Option | Flag, summary: str = ""
    ) -> Callable[[CommandFn], CommandFn]:
        def register(fn: CommandFn) -> CommandFn:
            self.form = Form(self.name, *_split(declared), fn, summary or self.summary)
            return fn

        return register

    def usage_of(self, verb: str | None = None) -> str:
        form = self.verbs[verb] if verb else self.form
        return form.usage if form else self.usage

    def pick(self, words: list[Word]) -> tuple[Form, list[Word]]:
        """The form the words call, and the words left for its arguments."""
        first = words[0] if words else None
        if first is not None and not first.quoted and first.text.lower() in self.verbs:
            return self.verbs[first.text.lower()], words[1:]
        names = or_list(list(self.verbs))
        if first is None and self.verbs:
            what = "its arguments or one of" if self.form else "one of"
            raise MissingArgument(f"`{self.name}` needs {what}: {names}. Usage: `{self.usage}`")
        if self.form is not None:
            return self.form, words
        shown = first.text[:40] if first else ""
        raise InvalidInput(f'"{shown}" is not one of `{self.name}`\'s verbs: {names}. Usage: `{self.usage}`')


COMMANDS: dict[str, Command] = {}
ACTIONS: dict[str, ActionFn] = {}


def _new(name: str, summary: str, group: str) -> Command:
    if name in COMMANDS:
        raise RuntimeError(f"command {name!r} registered twice")
    COMMANDS[name] = Command(name, summary, group)
    return COMMANDS[name]


def command(
    name: str, *declared: Arg | Together | Option | Flag, summary: str, group: str
) -> Callable[[CommandFn], CommandFn]:
    """A command without sub-verbs; `declared`: its arguments and options, in the order they are typed."""
    return _new(name, summary, group).otherwise(*declared)


def command_with_verbs(name: str, *, summary: str, group: str) -> Command:
    """A command whose first word is a sub-verb; declare each with `.verb(...)` (and `.otherwise(...)`)."""
    return _new(name, summary, group)


def usage_of(name: str) -> str:
    """A registered command's usage line(s), as `help` shows them."""
    return COMMANDS[name].usage


def action(action_id: str) -> Callable[[ActionFn], ActionFn]:
    def register(fn: ActionFn) -> ActionFn:
        if action_id in ACTIONS:
            raise RuntimeError(f"action {action_id!r} registered twice")
        ACTIONS[action_id] = fn
        return fn

    return register


def help_reply(words: list[str]) -> Reply:
    """`help`: every command's usage and summary; `help <command> [verb]`: one command, its forms and notes."""
    if not words:
        groups: dict[str, list[tuple[str, str]]] = {}
        for cmd in COMMANDS.values():
            groups.setdefault(cmd.group, []).append((f"`{cmd.usage}`", cmd.summary))
        every = [pair for group in groups.values() for pair in group]
        return Reply("ownerbot makes every customer someone's. Commands:", fields=every)
    found = COMMANDS.get(words[0].lower())
    if found is None:
        return Reply(f"No command `{words[0][:40]}`. Type `help` for the list.", error=True)
    verb = found.verbs.get(words[1].lower()) if len(words) > 1 else None
    forms = [verb] if verb else found.forms
    fields: list[tuple[str, str]] = []
    if verb or not found.verbs:
        text = f"`{forms[0].usage}`\n{forms[0].summary or found.summary}"
    else:
        text = f"`{found.name}`: {found.summary}"
        fields += [(f"`{form.usage}`", form.summary) for form in forms]
    notes: dict[str, str] = {}
    for form in forms:
        notes.update(form.notes())
    fields += list(notes.items())
    return Reply(text, fields=fields)
