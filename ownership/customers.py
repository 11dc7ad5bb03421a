"""Customers: add, rename, set tier, look up with a "did you mean" on a typo."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Customer, Member, Tier

from .errors import Conflict, InvalidInput
from .people import clean_name, require_lead


def parse_tier(raw: str) -> Tier:
    try:
        return Tier(raw.strip().lower())
    except ValueError:
        raise InvalidInput(f'"{raw}" is not a tier. Use premium, standard or basic.') from None


async def _name_taken(session: AsyncSession, workspace_id: int, name: str, except_id: int | None = None) -> bool:
    query = select(Customer.id).where(Customer.workspace_id == workspace_id, Customer.name_key == name.casefold())
    if except_id is not None:
        query = query.where(Customer.id != except_id)
    return (await session.scalar(query)) is not None


async def add_customer(
    session: AsyncSession,
    *,
    actor: Member,
    name: str,
    tier: Tier = Tier.STANDARD,
    external_id: str | None = None,
    now: datetime,
) -> Customer:
    require_lead(actor, "add customers")
    name = clean_name(name, "customer")
    if await _name_taken(session, actor.workspace_id, name):
        raise Conflict(f'A customer called "{name}" already exists.')
    if external_id:
        taken = await session.scalar(
            select(Customer.name).where(
                Customer.workspace_id == actor.workspace_id, Customer.external_id == external_id
            )
        )
        if taken:
            raise Conflict(f'External id "{external_id}" already belongs to {taken}.')
    customer = Customer(
        workspace_id=actor.workspace_id,
        name=name,
        name_key=name.casefold(),
        external_id=external_id or None,
        tier=tier,
        created_at=now,
    )
    session.add(customer)
    await session.flush()
    return customer


async def rename_customer(session: AsyncSession, *, actor: Member, customer: Customer, new_name: str) -> Customer:
    require_lead(actor, "rename customers")
    new_name = clean_name(new_name, "customer")
    if await _name_taken(session, customer.workspace_id, new_name, except_id=customer.id):
        raise Conflict(f'A customer called "{new_name}" already exists.')
    customer.name = new_name
    customer.name_key = new_name.casefold()
    return customer


async def set_tier(session: AsyncSession, *, actor: Member, customer: Customer, tier: Tier) -> Customer:
    require_lead(actor, "change a customer's tier")
    customer.tier = tier
    return customer


async def list_customers(session: AsyncSession, *, workspace_id: int) -> list[tuple[Customer, str | None]]:
    rows = await session.execute(
        select(Customer, Member.display_name)
        .outerjoin(Member, Member.id == Customer.owner_id)
        .where(Customer.workspace_id == workspace_id)
        .order_by(func.lower(Customer.name))
    )
    return [(customer, owner) for customer, owner in rows.all()]
