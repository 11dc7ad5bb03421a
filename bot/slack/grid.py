"""Slack Enterprise Grid: which organization a workspace belongs to, learned from its requests and kept on the
workspace's row, so what the bot sends on its own finds the right token: a workspace-level install in the org
(enterprise + team), or the org-wide install (enterprise only), not only a plain workspace install."""

from __future__ import annotations

from typing import Any

from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.models.bot import Bot
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Platform, Workspace


def enterprise_of(body: dict[str, Any]) -> str | None:
    """The Grid organization of a slash command, an interaction or an event (None outside Grid)."""
    found = (
        body.get("enterprise_id")
        or (body.get("enterprise") or {}).get("id")
        or ((body.get("authorizations") or [{}])[0] or {}).get("enterprise_id")
    )
    return str(found) if found else None


async def remember(sessions: async_sessionmaker[AsyncSession], *, team_id: str, enterprise_id: str | None) -> None:
    """Keep the workspace's organization (once the workspace has a row; a no-op outside Grid)."""
    if not enterprise_id or not team_id:
        return
    async with sessions() as session, session.begin():
        await session.execute(
            update(Workspace)
            .where(
                Workspace.platform == Platform.SLACK,
                Workspace.external_id == team_id,
                Workspace.enterprise_id.is_distinct_from(enterprise_id),
            )
            .values(enterprise_id=enterprise_id)
        )


async def find_bot(
    store: AsyncInstallationStore, sessions: async_sessionmaker[AsyncSession] | None, team_id: str
) -> Bot | None:
    """The bot token for a workspace: its own install, else its org's workspace-level or org-wide install."""
    bot = await store.async_find_bot(enterprise_id=None, team_id=team_id)
    if bot is not None or sessions is None:
        return bot
    async with sessions() as session:
        enterprise_id = await session.scalar(
            select(Workspace.enterprise_id).where(
                Workspace.platform == Platform.SLACK, Workspace.external_id == team_id
            )
        )
    if not enterprise_id:
        return None
    return await store.async_find_bot(enterprise_id=enterprise_id, team_id=team_id) or await store.async_find_bot(
        enterprise_id=enterprise_id, team_id=None, is_enterprise_install=True
    )
