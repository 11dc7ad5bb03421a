"""Slack settings (environment or `.env`), loaded with `bot.settings.load_settings(SlackSettings)`.

- HTTP mode: SLACK_SIGNING_SECRET plus either SLACK_BOT_TOKEN (one workspace) or
  SLACK_CLIENT_ID + SLACK_CLIENT_SECRET (any workspace installs through /slack/install).
- Socket Mode: SLACK_APP_TOKEN (xapp-...) plus SLACK_BOT_TOKEN; no public URL needed.
- SLACK_API_URL: the Web API base URL (an enterprise proxy, or the tests' fake Slack).
- SLACK_RETRY_BASE_SECONDS (0.5) and SLACK_RETRY_JITTER_SECONDS (1.0): the back-off before a Web API or
  response_url retry (see `notifier.RetryTiming`); the tests set both to 0.
"""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_API_URL = "https://slack.com/api/"


def _secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None and value.get_secret_value() else None


class SlackSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    slack_signing_secret: SecretStr | None = None
    slack_bot_token: SecretStr | None = None
    slack_client_id: str | None = None
    slack_client_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = DEFAULT_API_URL
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
