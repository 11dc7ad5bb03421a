"""Settings from the environment and an optional `.env` file (pydantic-settings).

Bad settings fail at start with one line naming the setting (see `load_settings`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, TypeVar

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from db.engine import default_database_url, normalize_database_url


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = Field(default_factory=default_database_url)
    host: str = "127.0.0.1"
    port: int = Field(default=3000, ge=1, le=65535)
    ownerbot_admins: Annotated[frozenset[str], NoDecode] = frozenset()
    log_level: str = "INFO"
    console_inbox: Path = Field(default_factory=lambda: Path.cwd() / "ownerbot-inbox")

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        return normalize_database_url(value)

    @field_validator("ownerbot_admins", mode="before")
    @classmethod
    def _admins(cls, value: object) -> frozenset[str]:
        if isinstance(value, str):
            return frozenset(part.strip() for part in value.split(",") if part.strip())
        if isinstance(value, (list, tuple, set, frozenset)):
            return frozenset(str(part) for part in value)
        return frozenset()


S = TypeVar("S", bound=BaseSettings)


class SettingsError(Exception):
    """One clear line naming the setting that is wrong."""


def load_settings(cls: type[S] = Settings, **overrides: Any) -> S:  # type: ignore[assignment]
    """Build a settings class (ours, or a platform's own) or fail with one line naming the bad setting."""
    try:
        return cls(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        prefix = str(cls.model_config.get("env_prefix") or "")
        name = (prefix + str(first["loc"][0])).upper() if first["loc"] else "settings"
        raise SettingsError(f"Setting {name} is invalid: {first['msg']}") from None
