"""One command lexer for every platform: words, "quoted names", mentions, durations, and friendly errors."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from ownership.errors import InvalidInput
from ownership.numbers import ascii_digits, parse_id

MAX_COMMAND = 4000
SMART_QUOTES = str.maketrans({"\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'"})
SPACE = " \t\r\n"  # not the no-break space: Teams keeps a multi-word mention's name in one word with it
MENTION = re.compile(r"^<@[^>|\s]+(?:\|[^>]*)?>$")
DURATION = re.compile(r"(?:(\d{1,6})w)?(?:(\d{1,6})d)?(?:(\d{1,6})h)?(?:(\d{1,6})m)?", re.ASCII)
MAX_DURATION = timedelta(weeks=520)  # ten years: `now` plus or minus it is always a date
DURATION_EXAMPLES = "90m, 2h, 3d or 2w"


@dataclass(frozen=True)
class Word:
    """One argument as typed. `quoted`: it was (partly) in double quotes, so it is one argument and never a
    mention, an option or a keyword."""

    text: str
    quoted: bool = False

    @property
    def is_mention(self) -> bool:
        """A platform mention (`<@U123|sam>`) or a typed `@name`: it ends a customer name."""
        return not self.quoted and (MENTION.match(self.text) is not None or self.text.startswith("@"))

    @property
    def is_option(self) -> bool:
        return not self.quoted and self.text.startswith("--") and len(self.text) > 2


def lex(text: str) -> list[Word]:
    """Split on spaces; double quotes (straight or smart) group words; single quotes and backslashes are text."""
    if len(text) > MAX_COMMAND:
        raise InvalidInput(f"That message is {len(text)} characters long; commands stay under {MAX_COMMAND}.")
    words: list[Word] = []
    chars: list[str] = []
    started = quoted = in_quote = False
    for ch in text.translate(SMART_QUOTES):
        if in_quote:
            if ch == '"':
                in_quote = False
            else:
                chars.append(ch)
        elif ch == '"':
            started = quoted = in_quote = True
        elif ch in SPACE:
            if started:
                words.append(Word("".join(chars), quoted))
            chars, started, quoted = [], False, False
        else:
            chars.append(ch)
            started = True
    if in_quote:
        raise InvalidInput('A quote was left open: close it, like `claim "Acme Corp"`.')
    if started:
        words.append(Word("".join(chars), quoted))
    return _join_split_mentions(words)


def _join_split_mentions(words: list[Word]) -> list[Word]:
    """`<@U2|Sam Jones>` arrives as one mention even when its name has spaces."""
    joined: list[Word] = []
    index = 0
    while index < len(words):
        word = words[index]
        if not word.quoted and word.text.startswith("<@") and ">" not in word.text:
            end = next((j for j in range(index + 1, min(index + 6, len(words))) if ">" in words[j].text), None)
            if end is not None and words[end].text.endswith(">"):
                joined.append(Word(" ".join(w.text for w in words[index : end + 1])))
                index = end + 1
                continue
        joined.append(word)
        index += 1
    return joined


def parse_duration(text: str, *, noun: str = "duration") -> timedelta:
    """`90m`, `2h`, `3d`, `2w` (or a sum of them in that order, like `1h30m`). Nothing else: a bare number or
    another unit is an error, never silently read as hours or minutes."""
    raw = text.strip().lower()
    match = DURATION.fullmatch(raw)
    if raw and match and any(match.groups()):
        weeks, days, hours, minutes = (int(part or 0) for part in match.groups())
        span = timedelta(weeks=weeks, days=days, hours=hours, minutes=minutes)
        if span > MAX_DURATION:
            raise InvalidInput(f'"{text[:20]}" is longer than I can count: at most {MAX_DURATION.days // 7}w.')
        return span
    shown = text[:20]
    if ascii_digits(raw):
        raise InvalidInput(f'"{shown}" needs a unit: {raw}m, {raw}h, {raw}d or {raw}w.')
    raise InvalidInput(f'"{shown}" is not a {noun}. Write it like {DURATION_EXAMPLES}.')


def whole_number(text: str) -> int:
    """An id typed as a number (`12` or `#12`): ASCII digits only; one past any id column is "not found"."""
    return parse_id(
        text, invalid=f'"{text[:40]}" is not a number.', missing=f'There is nothing numbered "{text[:20]}".'
    )


def button_id(value: str) -> int:
    """The id a button or form carries (`12`, or the `12` of `12:1h`); anything else is an out-of-date button."""
    stale = "That button is out of date."
    return parse_id(value.partition(":")[0], invalid=stale, missing=stale)


YES_NO = {"yes": True, "on": True, "true": True, "1": True, "no": False, "off": False, "false": False, "0": False}


def parse_yes_no(word: str) -> bool:
    """yes/no, on/off, true/false, 1/0."""
    try:
        return YES_NO[word.lower()]
    except KeyError:
        raise InvalidInput(f'Use yes or no (on or off), not "{word[:20]}".') from None


def or_list(items: Sequence[str]) -> str:
    """`a`, `a or b`, `a, b or c`."""
    return f"{', '.join(items[:-1])} or {items[-1]}" if len(items) > 1 else "".join(items)
