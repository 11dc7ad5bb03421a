"""Money and durations as people type them: `15`, `15.50`, `15,50`; `24h`, `90m`, `2d`, `1d12h`.

Money is integer cents in the team's currency: exact sums in SQL, no floats anywhere.
"""

from __future__ import annotations

import re
from datetime import timedelta

from ownership.errors import InvalidInput

AMOUNT = re.compile(r"^(\d{1,9})(?:[.,](\d{1,2}))?$")
DURATION = re.compile(r"^(?:(\d{1,3})d)?(?:(\d{1,4})h)?(?:(\d{1,5})m)?$")
CURRENCY_SIGNS = "$€£¥"


def parse_amount(text: str, *, what: str, maximum_cents: int) -> int:
    raw = text.strip().strip(CURRENCY_SIGNS).strip()
    match = AMOUNT.match(raw)
    if not match:
        raise InvalidInput(f'"{text[:40]}" is not an amount for {what}: write it like 15 or 15.50.')
    whole, fraction = match.group(1), (match.group(2) or "0").ljust(2, "0")
    cents = int(whole) * 100 + int(fraction)
    if cents > maximum_cents:
        raise InvalidInput(
            f"{format_amount(cents)} is more than the most {what} can be ({format_amount(maximum_cents)})."
        )
    return cents


def format_amount(cents: int, currency: str = "") -> str:
    amount = f"{cents // 100:,}.{cents % 100:02d}"
    return f"{amount} {currency}".strip()


def parse_duration(text: str, *, minimum: timedelta, maximum: timedelta) -> timedelta:
    raw = text.strip().lower()
    if raw.isdigit():
        raw += "h"  # a bare number is hours
    match = DURATION.match(raw)
    if not raw or not match or not any(match.groups()):
        raise InvalidInput(f'"{text[:40]}" is not a duration: write it like 24h, 90m, 2d or 1d12h.')
    days, hours, minutes = (int(part or 0) for part in match.groups())
    span = timedelta(days=days, hours=hours, minutes=minutes)
    if span < minimum or span > maximum:
        raise InvalidInput(f"Pick a deadline between {describe(minimum)} and {describe(maximum)} from now.")
    return span


def describe(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [f"{days}d" if days else "", f"{hours}h" if hours else "", f"{minutes}m" if minutes else ""]
    return "".join(parts) or "0m"
