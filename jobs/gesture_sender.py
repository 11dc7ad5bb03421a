"""Draws the gesture messages the outbox owes ("gesture:<id>:<purpose>") from the proposal as it is at send time.

What is owed is an outbox row (`gestures.outbox`), written in the same transaction as the change that owes it;
the one outbox sender (`jobs.outbox_sender`) claims it, asks this renderer for the neutral reply, and posts it,
or edits the posted card in place through the platform message id it recorded.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from db.outbox import Claimed
from gestures import outbox
from gestures.views import view_proposal
from handlers.gesture_cards import render_message
from handlers.replies import Reply
from ownership.errors import NotFound


async def render_gesture(session: AsyncSession, row: Claimed, now: datetime) -> Reply | None:
    """The reply for one gesture message, or None when there is nothing to say any more."""
    parsed = outbox.parse_render(row.render or "")
    if parsed is None:
        return None
    proposal_id, purpose = parsed
    try:
        view = await view_proposal(session, proposal_id=proposal_id, now=now)
    except NotFound:
        return None
    return render_message(purpose, row.target, view)
