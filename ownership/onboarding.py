"""Import customers from a CRM export: all rows or none, bad rows reported by line number."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Customer, EventKind, Member, OwnershipEvent, Platform, Tier, Workspace

from .errors import DomainError, InvalidInput
from .people import MENTION, clean_name


@dataclass(frozen=True)
class CustomerRow:
    line: int
    name: str
    tier: str
    external_id: str
    owner: str


class ImportRejected(DomainError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("Nothing was imported. Fix these rows and try again:\n" + "\n".join(problems))
        self.problems = problems


async def import_customers(
    session: AsyncSession, *, workspace: Workspace, rows: list[CustomerRow], platform: Platform, now: datetime
) -> int:
    """Create every customer (with its owner, if named) or raise ImportRejected and write nothing."""
    existing = set(
        (await session.execute(select(Customer.name_key).where(Customer.workspace_id == workspace.id))).scalars()
    )
    members = list((await session.execute(select(Member).where(Member.workspace_id == workspace.id))).scalars())
    by_ref = {m.platform_user_id: m for m in members} | {m.display_name.casefold(): m for m in members}
    taken_ids = set(
        (
            await session.execute(
                select(Customer.external_id).where(
                    Customer.workspace_id == workspace.id, Customer.external_id.is_not(None)
                )
            )
        ).scalars()
    )
    problems: list[str] = []
    seen: set[str] = set()
    planned: list[tuple[CustomerRow, str, Tier, Member | None]] = []
    for row in rows:
        try:
            name = clean_name(row.name, "customer")
        except InvalidInput as error:
            problems.append(f"line {row.line}: {error.message}")
            continue
        key = name.casefold()
        if key in existing or key in seen:
            problems.append(f'line {row.line}: a customer called "{name}" already exists')
            continue
        seen.add(key)
        external_id = row.external_id.strip()
        if external_id and external_id in taken_ids:
            problems.append(f'line {row.line}: external id "{external_id}" is used twice')
            continue
        taken_ids.add(external_id)
        try:
            tier = Tier((row.tier or "standard").strip().lower())
        except ValueError:
            problems.append(f'line {row.line}: "{row.tier}" is not a tier (premium, standard or basic)')
            continue
        owner = None
        if row.owner.strip():
            ref = row.owner.strip()
            match = MENTION.match(ref)
            ref = match.group(1) if match else ref.lstrip("@")
            owner = by_ref.get(ref) or by_ref.get(ref.casefold())
            if owner is None:
                problems.append(f'line {row.line}: nobody called "{row.owner}" has used ownerbot here yet')
                continue
        planned.append((row, name, tier, owner))
    if problems:
        raise ImportRejected(problems)
    for row, name, tier, owner in planned:
        customer = Customer(
            workspace_id=workspace.id,
            name=name,
            name_key=name.casefold(),
            external_id=row.external_id.strip() or None,
            tier=tier,
            owner_id=owner.id if owner else None,
            owned_since=now if owner else None,
            created_at=now,
        )
        session.add(customer)
        if owner is not None:
            await session.flush()
            session.add(
                OwnershipEvent(
                    workspace_id=workspace.id,
                    kind=EventKind.CLAIM,
                    customer_id=customer.id,
                    to_member_id=owner.id,
                    actor_id=None,
                    reason="imported",
                    platform=platform,
                    at=now,
                )
            )
    await session.flush()
    return len(planned)
