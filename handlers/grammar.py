"""The declared command grammar: the kinds of argument a command can take, and the one parser that reads them.

A command declares its arguments once (`registry.command`): positional kinds (`CustomerRef`, `MemberRef`,
`Reason`, `Text`, `OneWord`, `Number`, `Choice`, `Duration`, `TicketOrCustomer`), `Together` for a group that is
all there or all absent, and `Option` / `Flag` for `--name value` / `--name`. `parse_words` reads the typed
words against a declaration, resolves customers and people within the workspace, and returns the keyword
arguments the command function takes. The same parser reads a prompt's typed text (`parse_text`).

How words are shared out, left to right: a customer takes the longest leading run of words that names one (by
name or external id, any case), ending at the latest at a mention, `@name`, quoted word or option; a quoted word
is always exactly one argument; a person is a mention, a quoted name, or the longest run of up to four words
that is someone's display name; text and reasons take what is left, except a trailing word that a later
optional choice recognises (`customer add Acme Corp premium`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import KW_ONLY, dataclass, field, replace
from datetime import timedelta
from typing import ClassVar

from sqlalchemy.ext.asyncio import AsyncSession

from ownership.errors import InvalidInput, MemberNotFound
from ownership.numbers import ascii_digits, bare
from ownership.people import MENTION, find_member
from ownership.tickets import parse_ticket_id

from .customer_names import customer_not_found, customers_named, resolve_customer
from .parsing import DURATION_EXAMPLES, Word, lex, or_list, parse_duration, whole_number

MAX_NAME_WORDS = 4  # a display name typed without a mention: "Sam Jones", "Maria de la Cruz"


@dataclass(frozen=True)
class Scope:
    """Where names are resolved: one session, one workspace."""

    session: AsyncSession
    workspace_id: int


class MissingArgument(InvalidInput):
    pass


@dataclass(frozen=True)
class Arg:
    """One positional argument. `name` is the command function's keyword; `label` is shown in usage lines."""

    name: str
    _: KW_ONLY
    label: str = ""
    required: bool = True
    ask: str = ""  # the question when it is missing
    note: str = ""  # a line for `help <command>`
    rest: ClassVar[bool] = False  # takes every word that is left

    @property
    def shown(self) -> str:
        return self.label or self.name

    def usage(self) -> str:
        return f"<{self.shown}>" if self.required else f"[{self.shown}]"

    def question(self) -> str:
        return self.ask or f"Which {self.shown}?"

    def missing_is_error(self) -> bool:
        return self.required

    def recognises(self, word: Word) -> bool:
        """Whether a trailing word is clearly this (optional) argument rather than the end of the text before it."""
        return False

    async def take(self, scope: Scope, words: list[Word], room: int, last: bool) -> tuple[object, int]:
        """The value and how many words it used (0: not here). `room`: how many words free text may use and
        still leave one for each required argument after it; `last`: no argument comes after this one."""
        raise NotImplementedError


@dataclass(frozen=True)
class OneWord(Arg):
    """An argument of exactly one word (a quoted one may have spaces): as typed, or read by a subclass."""

    def read(self, text: str) -> object:
        return text

    async def take(self, scope: Scope, words: list[Word], room: int, last: bool) -> tuple[object, int]:
        return self.read(words[0].text), 1


@dataclass(frozen=True)
class Number(OneWord):
    """An id like `12` or `#12`; `parse` is the domain's own reader, with its own error."""

    parse: Callable[[str], int] = whole_number

    def read(self, text: str) -> object:
        return self.parse(text)


@dataclass(frozen=True)
class Choice(OneWord):
    """One of a few words. `parse` turns the word into the domain's value (and says what is wrong); without it,
    the word itself, lower case."""

    choices: tuple[str, ...] = ()
    parse: Callable[[str], object] | None = None
    noun: str = ""

    @property
    def shown(self) -> str:
        return self.label or "|".join(self.choices)

    def question(self) -> str:
        return self.ask or f"Which {self.noun or self.name}: {or_list(self.choices)}?"

    def recognises(self, word: Word) -> bool:
        return not word.quoted and word.text.lower() in self.choices

    def read(self, text: str) -> object:
        if self.parse is not None:
            return self.parse(text)
        if text.lower() not in self.choices:
            raise InvalidInput(f'"{text[:40]}" is not a {self.noun or self.name}. Use {or_list(self.choices)}.')
        return text.lower()


@dataclass(frozen=True)
class Duration(OneWord):
    """`90m`, `2h`, `3d` or `2w` (see parsing.parse_duration), as a timedelta."""

    noun: str = "duration"
    note: str = f"{DURATION_EXAMPLES}"

    def question(self) -> str:
        return self.ask or f"How long? Write it like {DURATION_EXAMPLES}."

    def read(self, text: str) -> timedelta:
        return parse_duration(text, noun=self.noun)


@dataclass(frozen=True)
class Text(Arg):
    """Free text: every word that is left."""

    rest: ClassVar[bool] = True

    @property
    def shown(self) -> str:
        return f"{self.label or self.name}…"

    def question(self) -> str:
        return self.ask or f"Add the {self.label or self.name}."

    async def take(self, scope: Scope, words: list[Word], room: int, last: bool) -> tuple[object, int]:
        return " ".join(" ".join(word.text for word in words[:room]).split()), min(room, len(words))


@dataclass(frozen=True)
class Reason(Text):
    """Why: free text of at least `minimum` characters. `prompted`: when it is missing the command asks for it
    itself (with a form) and receives None."""

    name: str = "reason"
    minimum: int = 0
    prompted: bool = False

    def question(self) -> str:
        return self.ask or "Why? Add a reason" + (f" (at least {self.minimum} characters)." if self.minimum else ".")

    def missing_is_error(self) -> bool:
        return self.required and not self.prompted

    async def take(self, scope: Scope, words: list[Word], room: int, last: bool) -> tuple[object, int]:
        text, used = await super().take(scope, words, room, last)
        if len(str(text)) < self.minimum:
            raise InvalidInput(f"The reason needs at least {self.minimum} characters, so the next person knows why.")
        return text, used


@dataclass(frozen=True)
class CustomerRef(Arg):
    """A customer of this workspace, by name or external id, any case, quoted or not."""

    name: str = "customer"
    note: str = "its name or external id, any case; quote a name, or end it with a mention"

    async def take(self, scope: Scope, words: list[Word], room: int, last: bool) -> tuple[object, int]:
        first = words[0]
        if first.is_mention or first.is_option:
            return None, 0
        if first.quoted:
            return await resolve_customer(scope.session, scope.workspace_id, [first.text], bounded=True), 1
        run: list[str] = []  # the longest name that is a customer wins, even over what later arguments need
        for word in words:
            if word.quoted or word.is_mention or word.is_option:
                break
            run.append(word.text)
        counts = [len(run)] if last else list(range(len(run), 0, -1))
        texts = [" ".join(run[:count]) for count in counts]
        found = await customers_named(scope.session, scope.workspace_id, texts)
        for count, text in zip(counts, texts, strict=True):
            if text in found:
                return found[text], count
        raise await customer_not_found(scope.session, scope.workspace_id, texts, bounded=last or len(run) < len(words))


@dataclass(frozen=True)
class TicketOrCustomer(CustomerRef):
    """`#12` or `12` is a ticket number (an int); anything else names a customer."""

    name: str = "ref"
    label: str = "ticket-id|customer"
    note: str = ""

    async def take(self, scope: Scope, words: list[Word], room: int, last: bool) -> tuple[object, int]:
        first = words[0]
        if not first.quoted and ascii_digits(bare(first.text)):
            return parse_ticket_id(first.text), 1
        return await super().take(scope, words, room, last)


@dataclass(frozen=True)
class MemberRef(Arg):
    """A person of this workspace: a mention, `@name`, their platform id, or their display name (spaces and
    all, quoted or not). `or_none`: the word `none` means nobody (the value is None)."""

    name: str = "member"
    label: str = "@member"
    or_none: bool = False
    note: str = "a mention, @name, or their full display name"

    def question(self) -> str:
        return self.ask or "Who? Mention them (@name)."

    async def take(self, scope: Scope, words: list[Word], room: int, last: bool) -> tuple[object, int]:
        first = words[0]
        if first.is_option:
            return None, 0
        if self.or_none and not first.quoted and first.text.lower() == "none":
            return None, 1
        if first.quoted or MENTION.match(first.text):
            return await find_member(scope.session, workspace_id=scope.workspace_id, ref=first.text), 1
        run: list[str] = []
        for word in words[:MAX_NAME_WORDS]:
            if word.quoted or word.is_option or (run and word.is_mention):
                break
            run.append(word.text)
        if last:
            return await find_member(scope.session, workspace_id=scope.workspace_id, ref=" ".join(run)), len(run)
        for count in range(len(run), 1, -1):  # the longest run of words that is someone's name
            try:
                ref = " ".join(run[:count])
                return await find_member(scope.session, workspace_id=scope.workspace_id, ref=ref), count
            except MemberNotFound:
                continue
        return await find_member(scope.session, workspace_id=scope.workspace_id, ref=run[0]), 1


@dataclass(frozen=True)
class Together:
    """Optional arguments that come all together or not at all (`sla [<tier> <target> <duration>]`)."""

    args: tuple[Arg, ...]
    label: str = ""

    def usage(self) -> str:
        return f"[{self.label or ' '.join(arg.usage() for arg in self.args)}]"


@dataclass(frozen=True)
class Option:
    """`--name value`: the value is read by a one-word kind. Absent: None. `shown=False` keeps an old spelling
    working without advertising it."""

    name: str
    value: OneWord = field(default_factory=lambda: OneWord("value"))
    example: str = ""
    note: str = ""
    shown: bool = True
    dest: str = ""  # the keyword it fills; the name with `_` for `-` when not given

    @property
    def key(self) -> str:
        return self.dest or self.name.replace("-", "_")

    def usage(self) -> str:
        return f"[--{self.name} {self.example or self.value.shown}]"

    def help(self) -> str:
        return self.note or self.value.note or self.example or self.value.shown


@dataclass(frozen=True)
class Flag:
    """`--name` with no value: True when given."""

    name: str
    note: str = ""
    shown: bool = True

    @property
    def key(self) -> str:
        return self.name.replace("-", "_")

    def usage(self) -> str:
        return f"[--{self.name}]"


Positional = Arg | Together


def _options(options: Sequence[Option | Flag], words: list[Word]) -> tuple[list[Word], dict[str, object]]:
    values: dict[str, object] = {o.key: False if isinstance(o, Flag) else None for o in options}
    if not options:
        return words, values
    by_name = {o.name: o for o in options}
    positional: list[Word] = []
    index = 0
    while index < len(words):
        word = words[index]
        index += 1
        if not word.is_option:
            positional.append(word)
            continue
        found = by_name.get(word.text[2:].lower())
        if found is None:
            every = ", ".join(f"--{o.name}" for o in options if o.shown)
            raise InvalidInput(f"Unknown option {word.text[:40]}. Options: {every}.")
        if isinstance(found, Flag):
            values[found.key] = True
            continue
        if index >= len(words):
            raise InvalidInput(f"--{found.name} needs a value ({found.help()}).")
        values[found.key] = found.value.read(words[index].text)
        index += 1
    return positional, values


async def parse_words(
    scope: Scope,
    args: Sequence[Positional],
    options: Sequence[Option | Flag],
    words: list[Word],
    usage: str,
) -> dict[str, object]:
    """Fill the declared arguments from the typed words; keyword arguments for the command function."""
    positional, values = _options(options, words)
    todo = list(args)
    index = 0
    while todo:
        arg = todo.pop(0)
        if isinstance(arg, Together):
            if index < len(positional):
                todo[:0] = [replace(inner, required=True) for inner in arg.args]
            else:
                values.update({inner.name: None for inner in arg.args})
            continue
        later = [a for a in todo if isinstance(a, Arg)]
        end = len(positional) - sum(1 for a in later if a.required)
        if arg.rest:
            for optional in reversed(later):
                if end - 1 > index and not optional.required and optional.recognises(positional[end - 1]):
                    end -= 1
                else:
                    break
        value: object = None
        used = 0
        if index < len(positional):
            value, used = await arg.take(scope, positional[index:], max(1, end - index), last=not todo)
        if used == 0 and arg.missing_is_error():
            raise MissingArgument(f"{arg.question()} Usage: `{usage}`")
        values[arg.name] = value
        index += used
    if index < len(positional):
        extra = " ".join(word.text for word in positional[index:])
        raise InvalidInput(f"I don't know what to do with `{extra[:60]}` there. Usage: `{usage}`")
    return values


async def parse_text(scope: Scope, args: Sequence[Positional], text: str, usage: str) -> dict[str, object]:
    """A prompt's typed text (a form can't hold a command), read by the same parser."""
    return await parse_words(scope, args, (), lex(text), usage)
