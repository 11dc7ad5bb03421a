"""Nudge settings (environment variables prefixed NUDGE_, e.g. NUDGE_TICK_SECONDS=30, NUDGE_DAILY_CAP=8).

Load with `bot.settings.load_settings(NudgeSettings)`, so a bad value fails at start naming the setting.
The domain takes the loaded object as its `policy`.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class NudgeSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="NUDGE_", env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True
    )

    tick_seconds: float = Field(default=30, gt=0, le=3600)  # how often the ticker plans and sends
    daily_cap: int = Field(default=8, ge=1, le=200)  # nudges a person gets one by one per day; the rest are bundled
    snooze_limit_minutes: int = Field(default=240, ge=0)  # how far snoozing may push the escalation back
    lease_seconds: int = Field(default=120, ge=5)  # a claimed nudge not marked sent by then is sent again
    batch_size: int = Field(default=200, ge=1, le=5000)  # subjects planned / nudges claimed per tick
    warning_percent: int = Field(default=75, ge=1, le=99)  # "about to breach" at this share of the target
    check_in_days: float = Field(default=3, gt=0)  # after a ticket is resolved, ask the owner to check in
    check_in_window_days: float = Field(default=7, gt=0)  # older resolutions are not checked in on any more
    hot_potato_after: int = Field(default=3, ge=1)  # more re-assigns than this: a hot potato
    handoff_accept_minutes: int = Field(default=240, ge=1)  # an offered handoff nobody answered this long
    unowned_grace_minutes: int = Field(default=60, ge=0)  # a customer without an owner this long
