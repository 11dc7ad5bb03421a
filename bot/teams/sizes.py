"""Teams' message size limit: a reply too big for one message is cut to what fits, and says what was left out.

Microsoft: a bot message may be about 100 KB, counted with its text encoded as UTF-16, and should stay within
80 KB to be sure to go through; over the limit the Bot Connector answers 413 (MessageSizeTooBig). `fitted` keeps
the first fields (and, for a long plain text, the first lines) that fit `budget`, and adds a line saying how many
more there are and where to see them all.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any, TypeVar

from handlers import Reply

from .backoff import connector_status

log = logging.getLogger(__name__)
T = TypeVar("T")

MESSAGE_BUDGET = 80 * 1024  # bytes as UTF-16: Microsoft's advice for a message that surely goes through
SHORT_BUDGET = 20 * 1024  # after a 413 anyway: a reply that fits whatever Teams counted
ELSEWHERE = "the leads' dashboard (/dashboard) lists everything"


def utf16_size(data: Any) -> int:
    """How Teams counts a message: its JSON, as UTF-16."""
    return len(json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-16-le"))


def more_line(shown: int, total: int, what: str) -> str:
    return (
        f"Showing the first {shown:,} of {total:,} {what}: {total - shown:,} more don't fit in one Teams message. "
        f"Ask for fewer (e.g. one customer's name), or see all of them: {ELSEWHERE}."
    )


def fitted(reply: Reply, size_of: Callable[[Reply], int], budget: int = MESSAGE_BUDGET) -> Reply:
    """The reply, cut to the first fields or lines that keep `size_of` within `budget` (itself when it fits)."""
    if size_of(reply) <= budget:
        return reply
    if reply.fields:
        shown = _largest(
            len(reply.fields),
            lambda n: size_of(_with_fields(reply, n)) <= budget,
        )
        cut = _with_fields(reply, shown)
        if size_of(cut) <= budget:
            return cut
        reply = cut
    lines = reply.text.split("\n")
    shown = _largest(len(lines), lambda n: size_of(_with_lines(reply, lines, n)) <= budget)
    cut = _with_lines(reply, lines, shown)
    if size_of(cut) <= budget:
        return cut
    # One enormous line (no list to cut): its beginning, and the note.
    keep = _largest(len(reply.text), lambda n: size_of(replace(cut, text=_head(reply.text, n))) <= budget)
    return replace(cut, text=_head(reply.text, keep), fields=[])


async def within_limit(send: Callable[[int], Awaitable[T]]) -> T:
    """`send(budget)`; when Teams still answers 413 (it counts differently than we do), once more, shorter."""
    try:
        return await send(MESSAGE_BUDGET)
    except Exception as error:
        if connector_status(error) != 413:
            raise
        log.warning("Teams refused a message as too large (HTTP 413); sending it shortened")
        return await send(SHORT_BUDGET)


def _with_fields(reply: Reply, shown: int) -> Reply:
    note = more_line(shown, len(reply.fields), "entries")
    return replace(reply, text=f"{reply.text}\n\n{note}", fields=reply.fields[:shown])


def _with_lines(reply: Reply, lines: list[str], shown: int) -> Reply:
    note = more_line(shown, len(lines), "lines")
    return replace(reply, text="\n".join([*lines[:shown], "", note]))


def _head(text: str, length: int) -> str:
    return text[:length] + "…\n\n(cut: too long for one Teams message)"


def _largest(count: int, fits: Callable[[int], bool]) -> int:
    """The largest n in 0..count with fits(n) (fits is monotone: fewer always fits when more does)."""
    low, high = 0, count
    while low < high:
        middle = (low + high + 1) // 2
        if fits(middle):
            low = middle
        else:
            high = middle - 1
    return low
