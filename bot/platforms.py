"""What each face reports at start: served or not, and why."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PlatformStatus:
    name: str
    enabled: bool
    detail: str  # where it is served, or why it is off

    def line(self) -> str:
        return f"{self.name}: {'on' if self.enabled else 'off'} ({self.detail})"
