"""A workspace that removes ownerbot: `app_uninstalled` and `tokens_revoked` events delete its installs from the
installation store (OAuth mode) and skip the messages still waiting for it in the outbox, so the sender stops
trying a token that will never work. Slack sends these events without a usable token; bolt lets them through
without authorizing (its `no_auth_test_events`)."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Platform
from db.outbox import skip_workspace

from .translate import team_of

log = logging.getLogger(__name__)


def enterprise_of(body: dict[str, Any]) -> str | None:
    found = body.get("enterprise_id") or ((body.get("authorizations") or [{}])[0] or {}).get("enterprise_id")
    return str(found) if found else None


async def forget_workspace(
    sessions: async_sessionmaker[AsyncSession], store: AsyncInstallationStore | None, body: dict[str, Any]
) -> int:
    """`app_uninstalled`: every install of the workspace gone, and its pending messages skipped."""
    team_id, enterprise_id = team_of(body), enterprise_of(body)
    if store is not None:
        await store.async_delete_all(enterprise_id=enterprise_id, team_id=team_id or None)
    async with sessions() as session, session.begin():
        skipped = await skip_workspace(
            session, platform=Platform.SLACK, workspace=team_id, why="ownerbot was uninstalled from the workspace"
        )
    log.info("Slack workspace %s uninstalled ownerbot: %d pending message(s) skipped", team_id, skipped)
    return skipped


async def forget_tokens(
    sessions: async_sessionmaker[AsyncSession],
    store: AsyncInstallationStore | None,
    body: dict[str, Any],
    event: dict[str, Any],
) -> int:
    """`tokens_revoked`: revoked user tokens' installs deleted; a revoked bot token also ends the workspace's
    pending messages (nothing can send them)."""
    team_id, enterprise_id = team_of(body), enterprise_of(body)
    tokens = event.get("tokens") or {}
    if store is not None:
        for user_id in tokens.get("oauth") or []:
            await store.async_delete_installation(enterprise_id=enterprise_id, team_id=team_id or None, user_id=user_id)
        if tokens.get("bot"):
            await store.async_delete_bot(enterprise_id=enterprise_id, team_id=team_id or None)
    if not tokens.get("bot"):
        return 0
    async with sessions() as session, session.begin():
        skipped = await skip_workspace(
            session, platform=Platform.SLACK, workspace=team_id, why="Slack revoked ownerbot's bot token"
        )
    log.info("Slack workspace %s revoked ownerbot's bot token: %d pending message(s) skipped", team_id, skipped)
    return skipped
