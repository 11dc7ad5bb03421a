"""Microsoft Teams' settings (see `bot.settings`, which re-exports them): the app registration, emulator mode, the
Bot Connector hosts ownerbot trusts. Imports no chat platform, so `app.py` can read them with Teams off."""

from __future__ import annotations

import ipaddress
from typing import Annotated, Literal
from urllib.parse import urlparse

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

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


# Where Microsoft's Bot Connector lives (the serviceUrl of every Teams activity): the public cloud, GCC, GCC High,
# DoD, and the Bot Framework's own hosts. Anything else is refused before it is stored or called.
MICROSOFT_SERVICE_HOSTS = (
    "smba.trafficmanager.net",
    "smba.infra.gcc.teams.microsoft.com",
    "smba.infra.gov.teams.microsoft.us",
    "smba.infra.dod.teams.microsoft.us",
    "*.botframework.com",
    "*.botframework.azure.us",
)


class TeamsSettings(BaseSettings):
    """Teams is on with an app id (SingleTenant by default), or, only when TEAMS_EMULATOR says so, unauthenticated
    for the Bot Framework Emulator on a loopback HOST."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore", validate_default=True)

    # (order matters: the password and tenant checks read the app id and type validated before them)
    microsoft_app_id: str = ""
    # New Azure bots are single-tenant (or a user-assigned managed identity); MultiTenant is for older registrations.
    microsoft_app_type: AppType = "SingleTenant"
    microsoft_app_password: SecretStr = SecretStr("")
    microsoft_app_tenant_id: str = ""
    host: str = "127.0.0.1"  # the server's bind address (shared HOST setting): emulator mode needs a loopback one
    # Unauthenticated activities for the Bot Framework Emulator: only when asked for, never inferred.
    teams_emulator: bool = False
    # Bot Connector hosts trusted besides Microsoft's (MICROSOFT_SERVICE_HOSTS), comma-separated: a test double
    # ("127.0.0.1") or a private cloud. An activity whose serviceUrl is elsewhere is refused.
    teams_service_hosts: Annotated[tuple[str, ...], NoDecode] = ()
    # How long fetching the Bot Connector's signing keys may take (off the event loop) before a request fails.
    teams_key_fetch_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
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

    @field_validator("teams_service_hosts", mode="before")
    @classmethod
    def _service_hosts(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip().lower() for part in value.split(",") if part.strip())
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

    def off_reason(self) -> str | None:
        """Why Teams cannot run with these settings, or None when it can."""
        if self.authenticated:
            return None
        if not self.teams_emulator:
            return (
                "MICROSOFT_APP_ID is not set: set MICROSOFT_APP_ID, MICROSOFT_APP_TENANT_ID and MICROSOFT_APP_PASSWORD "
                "(see docs/teams.md), or TEAMS_EMULATOR=true to try the Bot Framework Emulator on this machine"
            )
        if not is_loopback(self.host):
            return (
                f"TEAMS_EMULATOR=true but HOST={self.host} is not a loopback address: refusing to accept "
                "unauthenticated activities; set MICROSOFT_APP_ID/MICROSOFT_APP_PASSWORD, or bind to 127.0.0.1 for "
                "the Bot Framework Emulator"
            )
        return None

    def trusts_service_url(self, url: str | None) -> bool:
        """Whether `url` is a Bot Connector ownerbot may store and call: https on one of Microsoft's hosts, or a
        host named in TEAMS_SERVICE_HOSTS."""
        parsed = urlparse(url or "")
        host = (parsed.hostname or "").lower()
        if not host or parsed.username or parsed.password:
            return False
        if host in self.teams_service_hosts and parsed.scheme in ("https", "http"):
            return True
        if parsed.scheme != "https":
            return False
        for allowed in MICROSOFT_SERVICE_HOSTS:
            if allowed.startswith("*.") and host.endswith(allowed[1:]):
                return True
            if host == allowed:
                return True
        return False
