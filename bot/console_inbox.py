"""The console's reading side: what arrived in a member's inboxes since they last looked.

A member sees their own inbox (`user-<id>`: direct messages, nudges, handoff offers) and the channels of their
teams (`channel-<id>`: gesture vote cards and outcomes), as the `ConsoleNotifier` writes them: one JSON record
per delivery, appended, with updates of a message as further records under its message id. How far a member
has read each inbox is a row (`ConsoleReadMarker`), so a restart shows only what is new, and `inbox older`
lists what was read before. A message updated several times is shown once, in its latest version.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.clock import Clock
from db.models import ConsoleReadMarker, GestureProposal, Member, Platform, Team, Workspace
from db.upsert import insert_or_ignore
from handlers import Button, Reply

OLDER = 10  # `inbox older` lists this many read messages unless told how many
MAX_OLDER = 200


@dataclass(frozen=True)
class InboxMessage:
    box: str
    message_id: str
    reply: Reply
    updated: bool  # an earlier version was shown before: this is how it reads now

    @property
    def channel(self) -> str | None:
        return self.box.removeprefix("channel-") if self.box.startswith("channel-") else None


def reply_of(record: dict[str, Any]) -> Reply:
    raw = record.get("reply") or {}
    return Reply(
        str(raw.get("text", "")),
        fields=[(str(label), str(value)) for label, value in raw.get("fields", [])],
        buttons=[Button(**button) for button in raw.get("buttons", [])],
        error=bool(raw.get("error", False)),
    )


def latest_versions(records: list[dict[str, Any]], start: int, end: int, box: str) -> list[tuple[int, InboxMessage]]:
    """Records [start, end) as messages, one per message id (its last version), each with its position."""
    shown_before = {r.get("message_id") for r in records[:start]}
    last: dict[str, int] = {}
    for index in range(start, end):
        last[str(records[index].get("message_id") or f"#{index}")] = index
    return [
        (index, InboxMessage(box, message_id, reply_of(records[index]), message_id in shown_before))
        for message_id, index in last.items()
    ]


class ConsoleReader:
    """One member's view of the console inboxes, with their read markers."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        read_box: Any,  # (box name) -> list of records: `ConsoleNotifier.read`
        *,
        workspace: str,
        user_id: str,
        clock: Clock,
    ) -> None:
        self.sessions = sessions
        self.read_box = read_box
        self.workspace = workspace
        self.user_id = user_id
        self.clock = clock

    async def _member(self, session: AsyncSession) -> Member | None:
        return (
            await session.execute(
                select(Member)
                .join(Workspace, Workspace.id == Member.workspace_id)
                .where(
                    Workspace.platform == Platform.CONSOLE,
                    Workspace.external_id == self.workspace,
                    Member.platform_user_id == self.user_id,
                )
            )
        ).scalar_one_or_none()

    async def _boxes(self, session: AsyncSession, member: Member) -> list[str]:
        """The member's own inbox, then the channels of the teams they are in or lead (a team's channel, and
        wherever its gestures were put to the vote)."""
        teams = list(
            (
                await session.execute(
                    select(Team.id, Team.channel_id).where(or_(Team.id == member.team_id, Team.lead_id == member.id))
                )
            ).all()
        )
        channels = {channel for _, channel in teams if channel}
        if teams:
            used = await session.execute(
                select(GestureProposal.channel_id)
                .where(GestureProposal.team_id.in_([team_id for team_id, _ in teams]))
                .distinct()
            )
            channels.update(used.scalars())
        return [f"user-{self.user_id}", *(f"channel-{channel}" for channel in sorted(channels))]

    async def unread(self) -> list[InboxMessage]:
        """What arrived since the member last looked; reading it moves their markers past it."""
        now: datetime = self.clock()
        found: list[tuple[int, InboxMessage]] = []
        async with self.sessions() as session, session.begin():
            member = await self._member(session)
            if member is None:
                return []
            for box in await self._boxes(session, member):
                records = self.read_box(box)
                marker = await self._marker(session, member, box, now)
                start = marker.seen if marker.seen <= len(records) else 0  # a new inbox folder: all of it is new
                found += latest_versions(records, start, len(records), box)
                marker.seen, marker.updated_at = len(records), now
        return [message for _, message in found]

    async def older(self, limit: int = OLDER) -> list[InboxMessage]:
        """The last `limit` messages already read in each inbox, oldest first (latest versions)."""
        count = max(1, min(limit, MAX_OLDER))
        async with self.sessions() as session:
            member = await self._member(session)
            if member is None:
                return []
            found: list[InboxMessage] = []
            for box in await self._boxes(session, member):
                records = self.read_box(box)
                seen = await session.scalar(
                    select(ConsoleReadMarker.seen).where(
                        ConsoleReadMarker.member_id == member.id, ConsoleReadMarker.box == box
                    )
                )
                end = min(seen or 0, len(records))
                found += [replace_updated(m) for _, m in latest_versions(records, 0, end, box)][-count:]
        return found

    async def _marker(self, session: AsyncSession, member: Member, box: str, now: datetime) -> ConsoleReadMarker:
        query = select(ConsoleReadMarker).where(ConsoleReadMarker.member_id == member.id, ConsoleReadMarker.box == box)
        marker = (await session.execute(query.with_for_update())).scalar_one_or_none()
        if marker is None:
            await insert_or_ignore(
                session,
                ConsoleReadMarker,
                {"member_id": member.id, "box": box, "seen": 0, "updated_at": now},
                ["member_id", "box"],
            )
            marker = (await session.execute(query.with_for_update())).scalar_one()
        return marker


def replace_updated(message: InboxMessage) -> InboxMessage:
    """In a list of what was read, every message is simply its latest version."""
    return InboxMessage(message.box, message.message_id, message.reply, updated=False)
