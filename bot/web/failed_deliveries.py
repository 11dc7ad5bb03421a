"""The dashboard's "failed deliveries" section: messages no platform would take (a card in a channel the bot is
not in, a DM to someone who left), from the outbox. Kept apart from the rest of the dashboard on purpose."""

from __future__ import annotations

import html

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Platform
from db.outbox import FailedDelivery, failed_deliveries


async def failed_deliveries_of(session: AsyncSession, workspace_ref: str) -> list[FailedDelivery]:
    """`workspace_ref` as the dashboard names a workspace: "slack:T123"."""
    platform, _, external_id = workspace_ref.partition(":")
    return await failed_deliveries(session, platform=Platform(platform), workspace=external_id)


def failed_deliveries_html(rows: list[FailedDelivery]) -> str:
    e = html.escape
    body = (
        "".join(
            f"<tr><td>{e(r.created_at.strftime('%Y-%m-%d %H:%M'))}</td><td>{e(r.purpose)}</td>"
            f"<td>{'DM to ' if r.direct else 'channel '}{e(r.target)}</td><td>{e(r.error[:200])}</td>"
            f"<td>{r.attempts}</td></tr>"
            for r in rows
        )
        or '<tr><td colspan="5" class="muted">None: every message got through.</td></tr>'
    )
    return (
        '<h2 id="failed-deliveries">Failed deliveries</h2>'
        "<table><tr><th>Owed since (UTC)</th><th>What</th><th>To</th><th>Why</th><th>Tries</th></tr>"
        f"{body}</table>\n"
    )


def failed_deliveries_json(rows: list[FailedDelivery]) -> list[dict[str, object]]:
    return [
        {
            "id": r.id,
            "purpose": r.purpose,
            "direct": r.direct,
            "target": r.target,
            "error": r.error,
            "attempts": r.attempts,
            "created_at": r.created_at.isoformat(),
        }
        for r in rows
    ]
