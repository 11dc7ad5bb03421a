"""Customers' ideas and suggestions: record one, and read them per customer and period."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Customer, CustomerIdea, Member, Platform

from .tickets import clean_text

MAX_IDEA = 2000


async def record_idea(
    session: AsyncSession, *, actor: Member, customer: Customer, text: str, platform: Platform, now: datetime
) -> CustomerIdea:
    idea = CustomerIdea(
        workspace_id=customer.workspace_id,
        customer_id=customer.id,
        author_id=actor.id,
        text=clean_text(text, "idea", MAX_IDEA),
        platform=platform,
        created_at=now,
    )
    session.add(idea)
    await session.flush()
    return idea


@dataclass(frozen=True)
class IdeaRow:
    idea: CustomerIdea
    customer: str
    author: str | None


async def list_ideas(
    session: AsyncSession,
    *,
    workspace_id: int,
    customer_id: int | None = None,
    since: datetime | None = None,
    limit: int = 50,
) -> list[IdeaRow]:
    """Customers' ideas, newest first: for one customer, and/or since a moment."""
    query = (
        select(CustomerIdea, Customer.name, Member.display_name)
        .join(Customer, Customer.id == CustomerIdea.customer_id)
        .outerjoin(Member, Member.id == CustomerIdea.author_id)
        .where(CustomerIdea.workspace_id == workspace_id)
    )
    if customer_id is not None:
        query = query.where(CustomerIdea.customer_id == customer_id)
    if since is not None:
        query = query.where(CustomerIdea.created_at >= since)
    rows = await session.execute(query.order_by(CustomerIdea.created_at.desc(), CustomerIdea.id.desc()).limit(limit))
    return [IdeaRow(i, c, a) for i, c, a in rows.all()]
