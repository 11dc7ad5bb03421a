"""Numbers and ids as people type them, read one way everywhere: ASCII digits only, bounded to the columns.

`str.isdigit()` accepts `²`, `①` and `٣`, and `int()` accepts `١٢` and `1_000`; a database id column holds at
most 2^31-1 on PostgreSQL and 2^63-1 on SQLite. Every id, amount, quorum and button value is read here, so a
number that is not one is a friendly refusal, and an id past the column's range is simply "not found".
"""

from __future__ import annotations

from .errors import InvalidInput, NotFound

MAX_ID = 2**31 - 1  # an INTEGER primary key on PostgreSQL; every id column of ours is one
MAX_DIGITS = 40  # longer than that is not a number anyone typed


def ascii_digits(text: str) -> bool:
    """Only `0`-`9`: no superscripts, circled or other scripts' digits, signs, spaces or underscores."""
    return 0 < len(text) <= MAX_DIGITS and text.isascii() and text.isdigit()


def bare(text: str) -> str:
    """The typed text without surrounding spaces and one leading `#` (`#12` is ticket 12)."""
    raw = text.strip()
    return raw[1:] if raw.startswith("#") else raw


def read_number(text: str, *, maximum: int = MAX_ID) -> int | None:
    """The whole number `text` spells (an optional leading `#`), or None when it is not one or above `maximum`."""
    raw = bare(text)
    if not ascii_digits(raw):
        return None
    value = int(raw)
    return value if value <= maximum else None


def parse_id(text: str, *, invalid: str, missing: str) -> int:
    """An id: InvalidInput(`invalid`) when `text` is not a number, NotFound(`missing`) when no row can have it."""
    raw = bare(text)
    if not ascii_digits(raw):
        raise InvalidInput(invalid)
    value = int(raw)
    if value < 1 or value > MAX_ID:
        raise NotFound(missing)
    return value


def parse_count(text: str, *, what: str, minimum: int = 0, maximum: int) -> int:
    """A small whole number (a quorum, a cap) between `minimum` and `maximum`."""
    value = read_number(text, maximum=10**12)
    if value is None:
        raise InvalidInput(f'{what} is a whole number, not "{text[:20]}".')
    if not minimum <= value <= maximum:
        raise InvalidInput(f"{what} is between {minimum} and {maximum}, not {value}.")
    return value
