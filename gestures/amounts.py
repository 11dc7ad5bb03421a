"""Money and durations as people type them: `15`, `15.50`, `15,50`; `24h`, `90m`, `2d`, `1d12h`.

Money is integer cents in the team's currency: exact sums in SQL, no floats anywhere.
"""

from __future__ import annotations

import re
from datetime import timedelta

from ownership.errors import InvalidInput

AMOUNT = re.compile(r"(\d{1,9})(?:[.,](\d{1,2}))?", re.ASCII)
CURRENCY_SIGNS = "$€£¥"


def parse_amount(text: str, *, what: str, maximum_cents: int) -> int:
    raw = text.strip().strip(CURRENCY_SIGNS).strip()
    match = AMOUNT.fullmatch(raw)
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


def describe(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [f"{days}d" if days else "", f"{hours}h" if hours else "", f"{minutes}m" if minutes else ""]
    return "".join(parts) or "0m"
