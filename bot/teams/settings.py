"""Microsoft Teams settings (pydantic-settings), read from the environment or `.env`.

MICROSOFT_APP_ID         the bot's Azure app registration id; empty = local emulator mode (loopback only)
MICROSOFT_APP_PASSWORD   its client secret (MultiTenant / SingleTenant)
MICROSOFT_APP_TENANT_ID  your Entra tenant id (required for SingleTenant; then only that tenant is served)
MICROSOFT_APP_TYPE       MultiTenant (default), SingleTenant or UserAssignedMSI
"""

from __future__ import annotations

import ipaddress
from typing import Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

AppType = Literal["MultiTenant", "SingleTenant", "UserAssignedMSI"]
LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def is_loopback(host: str) -> bool:
    host = host.strip().strip("[]")
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class TeamsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore", validate_default=True)

    # (order matters: the password and tenant checks read the app id and type validated before them)
    microsoft_app_id: str = ""
    microsoft_app_type: AppType = "MultiTenant"
    microsoft_app_password: SecretStr = SecretStr("")
    microsoft_app_tenant_id: str = ""
    host: str = "127.0.0.1"  # the server's bind address (shared HOST setting): decides if emulator mode is allowed
    # Where the Bot Connector's token signing keys are published. Leave empty for the public cloud; set it for a
    # sovereign/private cloud (or a local test double).
    teams_openid_metadata_url: str = ""
    # Bot Connector 429 / 5xx: how often to try, and the first back-off (doubles each time, Retry-After wins).
    teams_send_attempts: int = Field(default=4, ge=1, le=10)
    teams_retry_base_seconds: float = Field(default=0.5, ge=0, le=30)

    @field_validator("microsoft_app_type", mode="before")
    @classmethod
    def _app_type(cls, value: object) -> object:
        if isinstance(value, str):
            for choice in ("MultiTenant", "SingleTenant", "UserAssignedMSI"):
                if value.strip().lower() == choice.lower():
                    return choice
        return value

    @field_validator("teams_openid_metadata_url")
    @classmethod
    def _metadata_url(cls, value: str) -> str:
        value = value.strip()
        if value and not value.startswith(("https://", "http://127.0.0.1", "http://localhost")):
            raise ValueError("must be an https:// URL")
        return value

    @field_validator("microsoft_app_id")
    @classmethod
    def _stripped(cls, value: str) -> str:
        return value.strip()

    @field_validator("microsoft_app_password")
    @classmethod
    def _password(cls, value: SecretStr, info: ValidationInfo) -> SecretStr:
        if (
            info.data.get("microsoft_app_id")
            and info.data.get("microsoft_app_type") != "UserAssignedMSI"
            and not value.get_secret_value()
        ):
            raise ValueError("required when MICROSOFT_APP_ID is set")
        return value

    @field_validator("microsoft_app_tenant_id")
    @classmethod
    def _tenant(cls, value: str, info: ValidationInfo) -> str:
        app_type = info.data.get("microsoft_app_type")
        if info.data.get("microsoft_app_id") and app_type not in (None, "MultiTenant") and not value.strip():
            raise ValueError(f"required for MICROSOFT_APP_TYPE={app_type}")
        return value.strip()

    @property
    def authenticated(self) -> bool:
        return bool(self.microsoft_app_id)

    @property
    def single_tenant(self) -> str | None:
        """The one tenant served, when the app is registered single-tenant."""
        return self.microsoft_app_tenant_id or None if self.microsoft_app_type != "MultiTenant" else None
