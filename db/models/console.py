"""The terminal console's read markers: how far each member has read each inbox they see (their own messages
and their teams' channels), so `ownerbot chat` shows what arrived since they last looked, across restarts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class ConsoleReadMarker(Base):
    __tablename__ = "console_read_markers"
    __table_args__ = (UniqueConstraint("member_id", "box"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    box: Mapped[str] = mapped_column(String(200))  # the inbox file's name: `user-U1`, `channel-C1`
    seen: Mapped[int] = mapped_column(Integer, default=0)  # records read (the inbox is append-only)
    updated_at: Mapped[datetime]
