"""Every setting the server reads, from the environment and an optional `.env` file (pydantic-settings).

`app.py` loads each of these once with `load_settings` (bad settings fail at start with one line naming the
setting) and hands them to the face that uses it; the nudge policy is `nudges.settings.NudgeSettings`.

- `Settings`: the database, where the server listens, the first admins, the console inbox.
- `SlackSettings`: SLACK_SIGNING_SECRET plus either SLACK_BOT_TOKEN (one workspace) or SLACK_CLIENT_ID +
  SLACK_CLIENT_SECRET (any workspace installs through /slack/install); SLACK_APP_TOKEN (xapp-...) for Socket
  Mode; SLACK_API_URL, the Web API base URL (an enterprise proxy, or the tests' fake Slack).
- `TeamsSettings`: MICROSOFT_APP_ID, MICROSOFT_APP_TYPE (SingleTenant by default, UserAssignedMSI, or the legacy
  MultiTenant), MICROSOFT_APP_TENANT_ID (required unless MultiTenant; then only that tenant is served),
  MICROSOFT_APP_PASSWORD (not for a managed identity); TEAMS_EMULATOR=true for the unauthenticated Bot Framework
  Emulator on a loopback HOST; TEAMS_SERVICE_HOSTS, extra Bot Connector hosts beyond Microsoft's own.
- `DashboardSettings`: DASHBOARD_TOKEN / DASHBOARD_TOKENS turn the leads' dashboard on; TRUSTED_PROXIES.
- `MetricsSettings`: METRICS_ENABLED, METRICS_TOKEN for GET /metrics.
- `TicketWebhookSettings`: TICKET_WEBHOOK_SECRET turns the helpdesk webhook on; TICKET_WEBHOOK_WORKSPACE.

These classes import no chat platform, so `app.py` can read them and load a platform only when it is on.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from db.engine import default_database_url, normalize_database_url
from db.models import Platform

from .teams_settings import MICROSOFT_SERVICE_HOSTS, AppType, TeamsSettings, is_loopback

__all__ = [
    "MICROSOFT_SERVICE_HOSTS",
    "AppType",
    "DashboardSettings",
    "MetricsSettings",
    "Settings",
    "SettingsError",
    "SlackSettings",
    "TeamsSettings",
    "TicketWebhookSettings",
    "is_loopback",
    "load_settings",
]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = Field(default_factory=default_database_url)
    host: str = "127.0.0.1"
    port: int = Field(default=3000, ge=1, le=65535)
    ownerbot_admins: Annotated[frozenset[str], NoDecode] = frozenset()
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = "text"
    # a stopping server (SIGTERM, SIGINT) finishes in-flight requests and the tick in progress this long at most
    shutdown_timeout_seconds: float = Field(default=20.0, gt=0, le=600)
    console_inbox: Path = Field(default_factory=lambda: Path.cwd() / "ownerbot-inbox")
    # a sender's hold on a claimed outbox message: a dead sender's are sent by others after it (db/outbox.py)
    outbox_lease_seconds: float = Field(default=60.0, ge=1, le=3600)
    retention_days: int = Field(default=90, ge=1, le=3650)  # webhook deliveries, finished nudges, sent messages
    retention_batch: int = Field(default=500, ge=1, le=10000)  # rows deleted per transaction

    @field_validator("log_format", mode="before")
    @classmethod
    def _log_format(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

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


DEFAULT_API_URL = "https://slack.com/api/"


def _secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None and value.get_secret_value() else None


class SlackSettings(BaseSettings):
    """Slack is on when these say how to serve it (see `off_reason`)."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    slack_signing_secret: SecretStr | None = None
    slack_bot_token: SecretStr | None = None
    slack_client_id: str | None = None
    slack_client_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = DEFAULT_API_URL
    # the back-off before a Web API or response_url retry (see `bot.slack.notifier.RetryTiming`); tests set 0
    slack_retry_base_seconds: float = Field(default=0.5, ge=0, le=30)
    slack_retry_jitter_seconds: float = Field(default=1.0, ge=0, le=30)

    @field_validator("slack_api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        value = value.strip()
        if not value.startswith(("https://", "http://")):
            raise ValueError("must be an http(s) URL such as https://slack.com/api/")
        return value if value.endswith("/") else value + "/"

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and value.get_secret_value() and not value.get_secret_value().startswith("xoxb-"):
            raise ValueError("must be a bot token starting with xoxb-")
        return value

    @field_validator("slack_app_token")
    @classmethod
    def _app_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and value.get_secret_value() and not value.get_secret_value().startswith("xapp-"):
            raise ValueError("must be an app-level token starting with xapp- (Socket Mode)")
        return value

    @model_validator(mode="after")
    def _oauth_pair(self) -> SlackSettings:
        if bool(self.slack_client_id) != bool(_secret(self.slack_client_secret)):
            missing = "slack_client_secret" if self.slack_client_id else "slack_client_id"
            raise ValueError(f"{missing.upper()} is needed too: OAuth needs both the client id and secret")
        return self

    @property
    def signing_secret(self) -> str | None:
        return _secret(self.slack_signing_secret)

    @property
    def bot_token(self) -> str | None:
        return _secret(self.slack_bot_token)

    @property
    def client_secret(self) -> str | None:
        return _secret(self.slack_client_secret)

    @property
    def app_token(self) -> str | None:
        return _secret(self.slack_app_token)

    @property
    def oauth(self) -> bool:
        return bool(self.slack_client_id and self.client_secret)

    def off_reason(self) -> str | None:
        """Why Slack cannot run with these settings, or None when it can."""
        if not (self.signing_secret or self.app_token or self.bot_token or self.oauth):
            return (
                "no Slack settings: set SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN (one workspace) or "
                "SLACK_CLIENT_ID/SLACK_CLIENT_SECRET (any workspace); SLACK_APP_TOKEN for Socket Mode"
            )
        if not (self.bot_token or self.oauth):
            return "SLACK_BOT_TOKEN (one workspace) or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET (OAuth) is missing"
        if not self.app_token and not self.signing_secret:
            return "SLACK_SIGNING_SECRET is missing (HTTP mode), or set SLACK_APP_TOKEN for Socket Mode"
        if self.oauth and not self.signing_secret:
            return "SLACK_SIGNING_SECRET is missing: the OAuth install flow runs over HTTP"
        return None


def _min_token(value: str) -> str:
    if len(value) < 16:
        raise ValueError("must be at least 16 characters (e.g. `openssl rand -hex 24`)")
    return value


def _workspace_ref(value: str) -> str:
    platform, _, external_id = value.strip().partition(":")
    if platform not in {p.value for p in Platform} or not external_id:
        raise ValueError(f"{value.strip()[:40]!r} is not platform:workspace-id, e.g. slack:T0123 or console:local")
    return value.strip()


class DashboardSettings(BaseSettings):
    """DASHBOARD_TOKEN (every workspace) or DASHBOARD_TOKENS (each token one workspace) turn the dashboard on;
    leads send a token as a bearer token (or once as ?token=). TRUSTED_PROXIES: the addresses whose
    X-Forwarded-Proto / Forwarded header is believed, so the cookie is Secure behind TLS termination."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    dashboard_token: SecretStr | None = None
    # "slack:T0123=<token>,teams:<tenant>=<token>": a token reads only its workspace. A workspace may have several
    # tokens at once (rotation: add the new one, hand it out, then remove the old one).
    dashboard_tokens: Annotated[tuple[tuple[str, SecretStr], ...], NoDecode] = ()
    trusted_proxies: Annotated[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...], NoDecode] = ()
    # "zendesk=https://acme.zendesk.com/agent/tickets/{ref}": a webhook ticket's page at its helpdesk, per source
    helpdesk_ticket_urls: Annotated[tuple[tuple[str, str], ...], NoDecode] = ()

    @field_validator("dashboard_token", mode="before")
    @classmethod
    def _token(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip()
            if not value:
                return None
            return _min_token(value)
        return value

    @field_validator("dashboard_tokens", mode="before")
    @classmethod
    def _tokens(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        pairs: list[tuple[str, SecretStr]] = []
        for part in value.split(","):
            if not part.strip():
                continue
            workspace, sep, token = part.rpartition("=")
            if not sep or not workspace.strip():
                raise ValueError("must be workspace=token pairs separated by commas, e.g. slack:T0123=<token>")
            pairs.append((_workspace_ref(workspace), SecretStr(_min_token(token.strip()))))
        return tuple(pairs)

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _proxies(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        try:
            return tuple(ipaddress.ip_network(p.strip(), strict=False) for p in value.split(",") if p.strip())
        except ValueError as error:
            raise ValueError(f"must be IP addresses or networks separated by commas ({error})") from None

    @field_validator("helpdesk_ticket_urls", mode="before")
    @classmethod
    def _helpdesk_urls(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        pairs: list[tuple[str, str]] = []
        for part in value.split(","):
            source, sep, template = part.strip().partition("=")
            if not part.strip():
                continue
            if not sep or not source.strip() or not template.strip().startswith(("https://", "http://")):
                raise ValueError("must be source=https://…/{ref} pairs separated by commas")
            if "{ref}" not in template:
                raise ValueError(f"the URL for {source.strip()} needs {{ref}} where the helpdesk's ticket id goes")
            pairs.append((source.strip(), template.strip()))
        return tuple(pairs)

    def scopes(self) -> list[tuple[str, str | None]]:
        """Each accepted token with the one workspace it reads (None: every workspace)."""
        found: list[tuple[str, str | None]] = []
        if self.dashboard_token is not None and self.dashboard_token.get_secret_value():
            found.append((self.dashboard_token.get_secret_value(), None))
        found.extend((token.get_secret_value(), workspace) for workspace, token in self.dashboard_tokens)
        return found


class MetricsSettings(BaseSettings):
    """GET /metrics is on by default; METRICS_TOKEN makes it require `Authorization: Bearer <token>`,
    METRICS_ENABLED=false turns it off (404)."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    metrics_enabled: bool = True
    metrics_token: SecretStr | None = None

    @field_validator("metrics_token", mode="before")
    @classmethod
    def _token(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip()
            return _min_token(value) if value else None
        return value

    @property
    def token(self) -> str | None:
        return _secret(self.metrics_token)


class TicketWebhookSettings(BaseSettings):
    """TICKET_WEBHOOK_SECRET turns the endpoint on; TICKET_WEBHOOK_WORKSPACE picks the workspace it writes into."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    ticket_webhook_secret: SecretStr | None = None
    ticket_webhook_workspace: str = "console:local"

    @field_validator("ticket_webhook_secret", mode="before")
    @classmethod
    def _secret(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("ticket_webhook_workspace")
    @classmethod
    def _workspace(cls, value: str) -> str:
        return _workspace_ref(value)

    @property
    def workspace(self) -> tuple[Platform, str]:
        platform, _, external_id = self.ticket_webhook_workspace.partition(":")
        return Platform(platform), external_id
