"""Long lists a page at a time: the first page and "N more", and `--page N` for the rest, so no answer grows past
what a chat message holds (Slack's 50 blocks, Teams' 100 KB) whatever the data."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from ownership.errors import InvalidInput

from .grammar import Number, Option

T = TypeVar("T")
PAGE_SIZE = 20
PAGE = Option("page", Number("page"), example="N", note="which page of a long list (20 a page)")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]
    number: int
    pages: int
    total: int

    def footer(self, command: str) -> str:
        """`. Page 1 of 3 (40 more): `customers --page 2` for the next.`, after a list's title; empty when everything
        is shown."""
        if self.pages <= 1:
            return ""
        shown_so_far = (self.number - 1) * PAGE_SIZE + len(self.items)
        if self.number >= self.pages:
            return f". Page {self.number} of {self.pages}: the last."
        return (
            f". Page {self.number} of {self.pages} ({self.total - shown_so_far} more): "
            f"`{command} --page {self.number + 1}` for the next."
        )


def page_of(items: Sequence[T], number: int | None, size: int = PAGE_SIZE) -> Page[T]:
    """Page `number` (1 when None) of `items`; a page past the end is a friendly error."""
    pages = max(1, -(-len(items) // size))
    number = number or 1
    if number > pages:
        raise InvalidInput(f"There {'is' if pages == 1 else 'are'} only {pages} page(s); try `--page {pages}`.")
    start = (number - 1) * size
    return Page(items[start : start + size], number, pages, len(items))
