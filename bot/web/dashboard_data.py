"""Everything one dashboard page shows, read in one session: the field report, the board of tickets that need
attention (filtered), the weekly trends and the customers' ideas. The HTML page, the JSON and the CSV exports
all render this one object."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Member, Team, Tier, Workspace
from nudges.settings import NudgeSettings
from reports.board import NOBODY, BoardFilter, BoardRow, board, unowned_open_tickets
from reports.field import FieldReport, field_report
from reports.trends import IdeaCount, Trends, idea_counts, weekly_trends


@dataclass
class DashboardData:
    report: FieldReport
    tickets: list[BoardRow]
    trends: Trends
    ideas: list[IdeaCount]
    unowned_open: int  # open tickets nobody owns: the `nobody` line of the load
    keep: BoardFilter
    teams: list[str]
    owners: list[str]
    tiers: list[str]

    def as_json(self) -> dict[str, object]:
        def seconds(span: timedelta | None) -> float | None:
            return None if span is None else span.total_seconds()

        data = self.report.as_json()
        data["tickets"] = [
            {
                **{k: v for k, v in asdict(row).items() if k not in ("opened_at", "age", "overdue_by", "links")},
                "opened_at": row.opened_at.isoformat(),
                "age": seconds(row.age),
                "overdue_by": seconds(row.overdue_by),
                "links": [{"label": link.label, "url": link.url} for link in row.links],
            }
            for row in self.tickets
        ]
        data["unowned_open_tickets"] = self.unowned_open
        data["trends"] = self.trends.as_json()
        data["ideas"] = [
            {"customer": i.customer, "theme": i.theme, "ideas": i.ideas, "latest": i.latest.isoformat()}
            for i in self.ideas
        ]
        data["filter"] = asdict(self.keep)
        return data


async def collect(
    session: AsyncSession,
    *,
    workspace: Workspace,
    now: datetime,
    policy: NudgeSettings,
    keep: BoardFilter,
    helpdesk_urls: Mapping[str, str],
) -> DashboardData:
    report = await field_report(session, workspace=workspace, now=now, policy=policy)
    tickets = await board(session, workspace=workspace, now=now, policy=policy, helpdesk_urls=helpdesk_urls, keep=keep)
    teams = list(
        (
            await session.execute(select(Team.name).where(Team.workspace_id == workspace.id).order_by(Team.name))
        ).scalars()
    )
    owners = list(
        (
            await session.execute(
                select(Member.display_name).where(Member.workspace_id == workspace.id).order_by(Member.display_name)
            )
        ).scalars()
    )
    return DashboardData(
        report=report,
        tickets=tickets,
        trends=await weekly_trends(session, workspace=workspace, now=now),
        ideas=await idea_counts(session, workspace=workspace),
        unowned_open=await unowned_open_tickets(session, workspace=workspace, now=now),
        keep=keep,
        teams=teams,
        owners=[*owners, NOBODY],
        tiers=[t.value for t in Tier],
    )
