"""Support calendars: when a team (or the whole workspace) is at work, and its holidays.

Service-level clocks on the business clock count only the time inside these hours (see `nudges.calendar`).
A workspace without a row works Monday to Friday, 09:00-17:00 UTC.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class SupportHours(Base):
    """One team's (team_id set) or the workspace's (team_id NULL) support hours, in its own time zone.

    `hours` holds one `day=HH:MM-HH:MM` per working ISO weekday (Monday = 1), e.g. `1=09:00-17:00 2=09:00-17:00`;
    a day that is not listed is closed; `00:00-24:00` is the whole day."""

    __tablename__ = "support_hours"
    __table_args__ = (Index("ix_support_hours_workspace_team", "workspace_id", "team_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    hours: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime]


class Holiday(Base):
    """A day the team (or, team_id NULL, the whole workspace) is closed: business clocks stand still."""

    __tablename__ = "holidays"
    __table_args__ = (Index("ix_holidays_workspace_day", "workspace_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime]
