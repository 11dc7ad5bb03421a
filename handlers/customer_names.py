"""Customers named in typed words: by name or external id in any case, and "did you mean" when none is."""

from __future__ import annotations

import difflib

from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Customer
from ownership.errors import CustomerNotFound, NotFound

from .parsing import or_list

_IN_WORKSPACE = Customer.workspace_id == bindparam("workspace_id")
# Built once (see ownership.people.CALLER). The workspace is named in each alternative so that each is an index
# lookup (SQLite's multi-index OR; PostgreSQL's bitmap OR), never a scan of every customer.
NAMED = select(Customer).where(
    or_(
        _IN_WORKSPACE & Customer.name_key.in_(bindparam("keys", expanding=True)),
        _IN_WORKSPACE & Customer.external_id.in_(bindparam("texts", expanding=True)),
        _IN_WORKSPACE & func.lower(Customer.external_id).in_(bindparam("lowered", expanding=True)),
    ),
)


async def customers_named(session: AsyncSession, workspace_id: int, texts: list[str]) -> dict[str, Customer]:
    """Which of these texts name a customer (by name, any case) or are one's external id (any case)."""
    keys = {text.casefold(): text for text in texts}
    lowered = {text.lower(): text for text in texts}
    rows = await session.execute(
        NAMED, {"workspace_id": workspace_id, "keys": list(keys), "texts": texts, "lowered": list(lowered)}
    )
    found: dict[str, Customer] = {}
    customers = list(rows.scalars())
    for customer in customers:  # an external id first, so that a name wins where both match
        external = customer.external_id or ""
        text = external if external in texts else lowered.get(external.lower())
        if text is not None:
            found[text] = customer
    for customer in customers:
        if customer.name_key in keys:
            found[keys[customer.name_key]] = customer
    return found


async def resolve_customer(session: AsyncSession, workspace_id: int, texts: list[str], *, bounded: bool) -> Customer:
    found = await customers_named(session, workspace_id, texts)
    if texts[0] in found:
        return found[texts[0]]
    raise await customer_not_found(session, workspace_id, texts, bounded=bounded)


async def customer_not_found(session: AsyncSession, workspace_id: int, texts: list[str], *, bounded: bool) -> NotFound:
    """ "Did you mean": names that start with what was typed, else the closest name. `texts`: the runs of words
    that were tried, longest first; `bounded`: the longest is surely the whole name typed."""
    names = (await session.execute(select(Customer.name).where(Customer.workspace_id == workspace_id))).scalars()
    by_key = {name.casefold(): name for name in names}
    for text in texts:
        key = text.casefold()
        starting = sorted(name for name_key, name in by_key.items() if len(key) >= 2 and name_key.startswith(key))
        if len(starting) == 1:
            return CustomerNotFound(text[:80], starting[0])
        if starting:
            shown = or_list([f'"{name}"' for name in starting[:3]])
            return NotFound(f'I don\'t know a customer called "{text[:80]}". Did you mean {shown}?')
    best: tuple[float, str, str] | None = None
    for text in texts:
        for close in difflib.get_close_matches(text.casefold(), list(by_key), n=1, cutoff=0.6):
            score = difflib.SequenceMatcher(None, text.casefold(), close).ratio()
            if best is None or score > best[0]:
                best = (score, text, by_key[close])
    if best is not None:
        return CustomerNotFound(best[1][:80], best[2])
    return CustomerNotFound((texts[0] if bounded else texts[-1])[:80])
