"""Import customers from a CRM export: all rows or none, bad rows reported by line number.

A row is matched to an existing customer by its external id (else by its name, any case): a match is updated
(name, tier, external id, owner: a blank cell leaves that field as it is), anything else is created. An owner
change is written to the audit trail like a reassignment (its open tickets follow; it counts as a re-assign when
someone owned it before), and a handoff still waiting is cancelled. `dry_run` plans the same and writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import (
    Customer,
    EventKind,
    HandoffStatus,
    Member,
    OwnershipEvent,
    Platform,
    Tier,
    Workspace,
)

from .claim_views import pending_handoff
from .claims import customer_event
from .errors import DomainError, InvalidInput
from .people import MENTION, clean_name

IMPORTED = "imported"


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


@dataclass
class PlannedRow:
    """What one row does: create a customer, update one (`changes` says what), or nothing."""

    row: CustomerRow
    name: str
    tier: Tier | None
    owner: Member | None
    customer: Customer | None  # the existing customer it matched
    changes: list[str] = field(default_factory=list)
    was_called: str = ""  # the matched customer's name before the import (readable after the session ends)
    owner_name: str = ""

    @property
    def action(self) -> str:
        if self.customer is None:
            return "create"
        return "update" if self.changes else "unchanged"

    def describe(self) -> str:
        if self.customer is None:
            owner = f", owner {self.owner_name}" if self.owner_name else ""
            return f"line {self.row.line}: create {self.name} ({(self.tier or Tier.STANDARD).value}{owner})"
        if not self.changes:
            return f"line {self.row.line}: {self.was_called} unchanged"
        return f"line {self.row.line}: update {self.was_called}: {'; '.join(self.changes)}"


@dataclass(frozen=True)
class ImportResult:
    rows: list[PlannedRow]

    def count(self, action: str) -> int:
        return sum(1 for row in self.rows if row.action == action)

    @property
    def created(self) -> int:
        return self.count("create")

    @property
    def updated(self) -> int:
        return self.count("update")

    @property
    def unchanged(self) -> int:
        return self.count("unchanged")


def _owner_ref(raw: str) -> str:
    ref = raw.strip()
    match = MENTION.match(ref)
    return match.group(1) if match else ref.lstrip("@")


async def plan_import(session: AsyncSession, *, workspace: Workspace, rows: list[CustomerRow]) -> ImportResult:
    """Read every row against the workspace's customers and people; raise ImportRejected listing every bad row."""
    customers = list((await session.execute(select(Customer).where(Customer.workspace_id == workspace.id))).scalars())
    by_external = {c.external_id: c for c in customers if c.external_id}
    by_name = {c.name_key: c for c in customers}
    members = list((await session.execute(select(Member).where(Member.workspace_id == workspace.id))).scalars())
    by_ref = {m.platform_user_id: m for m in members} | {m.display_name.casefold(): m for m in members}
    problems: list[str] = []
    seen_names: set[str] = set()
    seen_ids: set[str] = set()
    planned: list[PlannedRow] = []
    for row in rows:
        where = f"line {row.line}"
        try:
            name = clean_name(row.name, "customer")
        except InvalidInput as error:
            problems.append(f"{where}: {error.message}")
            continue
        key = name.casefold()
        external_id = row.external_id.strip()
        if key in seen_names:
            problems.append(f'{where}: "{name}" is in the file twice')
            continue
        seen_names.add(key)
        if external_id and external_id in seen_ids:
            problems.append(f'{where}: external id "{external_id}" is used twice')
            continue
        seen_ids.add(external_id)
        tier: Tier | None = None
        if row.tier.strip():
            try:
                tier = Tier(row.tier.strip().lower())
            except ValueError:
                problems.append(f'{where}: "{row.tier}" is not a tier (premium, standard or basic)')
                continue
        owner = None
        if row.owner.strip():
            ref = _owner_ref(row.owner)
            owner = by_ref.get(ref) or by_ref.get(ref.casefold())
            if owner is None:
                problems.append(f'{where}: nobody called "{row.owner}" has used ownerbot here yet')
                continue
        match = by_external.get(external_id) if external_id else None
        named = by_name.get(key)
        if match is None and named is not None:
            if external_id and named.external_id and named.external_id != external_id:
                problems.append(
                    f'{where}: a customer called "{name}" already exists, with external id "{named.external_id}"'
                )
                continue
            match = named
        if match is not None and named is not None and named is not match:
            problems.append(f'{where}: a customer called "{name}" already exists')
            continue
        plan = PlannedRow(
            row,
            name,
            tier,
            owner,
            match,
            was_called=match.name if match else "",
            owner_name=owner.display_name if owner else "",
        )
        if match is not None:
            if name != match.name:
                plan.changes.append(f"name {match.name} → {name}")
            if tier is not None and tier != match.tier:
                plan.changes.append(f"tier {match.tier.value} → {tier.value}")
            if external_id and external_id != match.external_id:
                plan.changes.append(f"external id {match.external_id or 'none'} → {external_id}")
            if owner is not None and owner.id != match.owner_id:
                before = next((m.display_name for m in members if m.id == match.owner_id), "nobody")
                plan.changes.append(f"owner {before} → {owner.display_name}")
        planned.append(plan)
    if problems:
        raise ImportRejected(problems)
    return ImportResult(planned)


async def import_customers(
    session: AsyncSession,
    *,
    workspace: Workspace,
    rows: list[CustomerRow],
    platform: Platform,
    now: datetime,
    dry_run: bool = False,
) -> ImportResult:
    """Create or update every row's customer, or raise ImportRejected and write nothing. `dry_run`: only plan."""
    result = await plan_import(session, workspace=workspace, rows=rows)
    if dry_run:
        return result
    for plan in result.rows:
        if plan.customer is None:
            await _create(session, workspace, plan, platform, now)
        elif plan.changes:
            await _update(session, plan, plan.customer, platform, now)
    await session.flush()
    return result


async def _create(
    session: AsyncSession, workspace: Workspace, plan: PlannedRow, platform: Platform, now: datetime
) -> None:
    owner = plan.owner
    customer = Customer(
        workspace_id=workspace.id,
        name=plan.name,
        name_key=plan.name.casefold(),
        external_id=plan.row.external_id.strip() or None,
        tier=plan.tier or Tier.STANDARD,
        owner_id=owner.id if owner else None,
        owned_since=now if owner else None,
        created_at=now,
    )
    session.add(customer)
    if owner is not None:
        await session.flush()
        session.add(_imported(customer, EventKind.CLAIM, None, owner.id, platform, now))


async def _update(
    session: AsyncSession, plan: PlannedRow, customer: Customer, platform: Platform, now: datetime
) -> None:
    customer.name, customer.name_key = plan.name, plan.name.casefold()
    customer.tier = plan.tier or customer.tier
    customer.external_id = plan.row.external_id.strip() or customer.external_id
    owner = plan.owner
    if owner is None or owner.id == customer.owner_id:
        return
    previous = customer.owner_id
    pending = await pending_handoff(session, customer=customer)
    if pending is not None:
        pending.status, pending.decided_at, pending.decline_reason = (
            HandoffStatus.CANCELLED,
            now,
            "superseded by an import",
        )
        session.add(
            _imported(
                customer, EventKind.HANDOFF_CANCELLED, pending.from_member_id, pending.to_member_id, platform, now
            )
        )
    customer.owner_id, customer.owned_since = owner.id, now  # its tickets follow (migration 0015's trigger)
    kind = EventKind.REASSIGN if previous is not None else EventKind.CLAIM
    session.add(_imported(customer, kind, previous, owner.id, platform, now))


def _imported(
    customer: Customer, kind: EventKind, from_id: int | None, to_id: int | None, platform: Platform, now: datetime
) -> OwnershipEvent:
    """An audit event the import wrote: no actor, the import as its reason."""
    return customer_event(
        customer, kind, actor=None, platform=platform, now=now, from_id=from_id, to_id=to_id, reason=IMPORTED
    )
