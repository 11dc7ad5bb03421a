"""Nudges into the outbox: a claimed nudge message (one nudge, or a bundle once the daily cap is reached) is
rendered and handed to the outbox in the claim's own transaction; when the outbox can never deliver it, the
nudge deliveries it carried are marked failed and the recipient's lead is told (through the nudge ladder, as a
`delivery-failed` nudge, which goes out through the outbox in turn)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from db import outbox
from db.models import NudgeKind, Platform
from handlers.ports import MessageRef
from handlers.replies import Reply
from handlers.reply_json import reply_to_json
from nudges.delivery import Message
from nudges.handed import Handed, fail_handed_over, mark_handed_over, record_message

PURPOSES = ("nudge", "digest")


def purpose_of(message: Message) -> str:
    return "digest" if all(d.kind == NudgeKind.DIGEST for d in message.deliveries) else "nudge"


async def hand_over_all(
    session: AsyncSession, rendered: list[tuple[Message, Reply]], *, worker: str, now: datetime
) -> list[int | None]:
    """Write each claimed message to the outbox and record the hand-overs on their deliveries. The key (first
    delivery, attempt) makes a repeated hand-over of the same claim write one row. One outbox row per message,
    then one statement records every hand-over (and one more the bundled rows), not a `mark_sent` per message."""
    row_ids: list[int | None] = []
    handed: list[Handed] = []
    for message, reply in rendered:
        first = message.deliveries[0]
        row_id = await outbox.enqueue(
            session,
            key=f"nudge:{first.id}:{first.attempts}",
            platform=Platform(message.workspace.platform),
            workspace=message.workspace.external_id,
            target=message.recipient.platform_user_id,
            direct=True,
            purpose=purpose_of(message),
            content=reply_to_json(reply),
            now=now,
        )
        row_ids.append(row_id)
        handed.append(
            Handed(
                ids=message.ids,
                platform=message.workspace.platform.value,
                channel=message.recipient.platform_user_id,
                message_id=f"outbox:{row_id}",
            )
        )
    await mark_handed_over(session, handed, worker=worker, now=now)
    return row_ids


async def nudge_sent(session: AsyncSession, row: outbox.Claimed, ref: MessageRef, now: datetime) -> None:
    """The outbox's hook once a nudge message went out: its deliveries point at the platform's message."""
    _, first, _ = [*row.key.split(":"), "", ""][:3]
    if first.isdigit():
        await record_message(
            session, first_id=int(first), platform=ref.platform.value, channel=ref.channel_id, message_id=ref.message_id
        )


async def nudge_failed(session: AsyncSession, row: outbox.Claimed, error: str, now: datetime) -> None:
    """The outbox's failure hook for nudge messages: "nudge:<first delivery id>:<attempt>"."""
    _, first, _ = [*row.key.split(":"), "", ""][:3]
    if first.isdigit():
        await fail_handed_over(session, first_id=int(first), now=now, error=error)
