"""Microsoft Teams: botbuilder; text commands and Adaptive Card submits funnel into handlers.

`register(app, runtime, settings)` mounts POST /api/messages and returns whether Teams is on, and why not. All
botbuilder code lives in this package, so a move to the Microsoft 365 Agents SDK stays local; `app.py` imports
it only when Teams is on.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web
from botbuilder.core import serializer_helper
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.schema import Activity
from botframework.connector.auth import AuthenticationConstants
from msrest.serialization import Model

from bot.platforms import PlatformStatus
from bot.runtime import Runtime
from bot.settings import TeamsSettings, is_loopback

from . import signing_keys
from .bot import OwnerbotTeamsBot, on_turn_error
from .notifier import TeamsNotifier
from .signing_keys import SigningKeysUnavailable

log = logging.getLogger(__name__)
ROUTE = "/api/messages"
MAX_ACTIVITY_BYTES = 256 * 1024


class BotConfiguration:
    """The attribute bag botbuilder's ConfigurationBotFrameworkAuthentication reads."""

    def __init__(self, settings: TeamsSettings) -> None:
        self.APP_ID = settings.microsoft_app_id or None
        self.APP_PASSWORD = settings.microsoft_app_password.get_secret_value() or None
        self.APP_TENANTID = settings.microsoft_app_tenant_id or None
        # emulator mode has no credentials at all, which botbuilder only accepts of a MultiTenant configuration
        self.APP_TYPE = settings.microsoft_app_type if settings.authenticated else "MultiTenant"
        if settings.teams_openid_metadata_url:
            # A non-public cloud (or a local test double) publishes its own signing keys; everything else stays
            # the public cloud's.
            tenant = settings.microsoft_app_tenant_id or AuthenticationConstants.DEFAULT_CHANNEL_AUTH_TENANT
            self.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL = settings.teams_openid_metadata_url
            self.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL = settings.teams_openid_metadata_url
            self.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER = AuthenticationConstants.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER
            self.TO_CHANNEL_FROM_BOT_LOGIN_URL = AuthenticationConstants.TO_CHANNEL_FROM_BOT_LOGIN_URL_PREFIX + tenant
            self.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE = AuthenticationConstants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE
            self.OAUTH_URL = AuthenticationConstants.OAUTH_URL
            self.VALIDATE_AUTHORITY = True
            self.CALLER_ID = "urn:botframework:azure"


def invoke_body(body: Any) -> Any:
    """An invoke response body as JSON data: botbuilder hands us either a model or already-serialized data."""
    return serializer_helper(body) if isinstance(body, Model) else body


def messages_handler(adapter: CloudAdapter, bot: OwnerbotTeamsBot, settings: TeamsSettings):  # type: ignore[no-untyped-def]
    authenticated = settings.authenticated

    async def messages(request: web.Request) -> web.StreamResponse:
        if not authenticated and not is_loopback(request.remote or ""):
            return web.json_response({"error": "emulator mode accepts local requests only"}, status=403)
        if "application/json" not in request.headers.get("Content-Type", ""):
            return web.json_response({"error": "expected application/json"}, status=415)
        try:
            body = await request.json()
            activity = Activity().deserialize(body)
        except Exception:
            return web.json_response({"error": "the body is not an activity"}, status=400)
        if not isinstance(body, dict) or not activity.type:
            return web.json_response({"error": "the activity has no type"}, status=400)
        auth_header = request.headers.get("Authorization")  # None, not "", when absent: emulator mode needs that
        try:
            authenticated_request = await adapter.bot_framework_authentication.authenticate_request(
                activity, auth_header
            )
        except SigningKeysUnavailable:
            return web.json_response({"error": "cannot check tokens right now; try again"}, status=503)
        except Exception as error:  # PermissionError, or a token that does not even decode / verify
            log.warning("Teams activity refused: %s", type(error).__name__)
            return web.json_response({"error": "unauthorized"}, status=401)
        if not settings.trusts_service_url(activity.service_url):
            # never stored, never called: replies go to the serviceUrl, so a foreign one would receive them
            log.warning("Teams activity refused: its serviceUrl is not a Bot Connector host ownerbot trusts")
            return web.json_response({"error": "serviceUrl is not an allowed Bot Connector host"}, status=403)
        # botbuilder 4.17.1's CloudAdapter.process serializes invoke bodies twice (HTTP 500); answer ourselves.
        invoke = await adapter.process_activity(authenticated_request, activity, bot.on_turn)
        if invoke is not None:
            return web.json_response(invoke_body(invoke.body), status=int(invoke.status))
        return web.Response(status=200)

    return messages


def register(app: web.Application, runtime: Runtime, settings: TeamsSettings) -> PlatformStatus:
    """Mount POST /api/messages and speak first on Teams through the runtime; returns whether Teams is on, and
    why not."""
    why_off = settings.off_reason()
    if why_off:
        return PlatformStatus("teams", False, why_off)
    signing_keys.install(
        signing_keys.metadata_urls(settings.teams_openid_metadata_url),
        timeout=settings.teams_key_fetch_timeout_seconds,
    )
    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(BotConfiguration(settings)))
    adapter.on_turn_error = on_turn_error
    notifier = TeamsNotifier(adapter, runtime.sessions, settings, runtime.clock)
    bot = OwnerbotTeamsBot(
        handlers=runtime.handlers, sessions=runtime.sessions, notifier=notifier, settings=settings, clock=runtime.clock
    )
    runtime.add_notifier(notifier)
    app.router.add_post(ROUTE, messages_handler(adapter, bot, settings))
    if settings.authenticated:
        legacy = " (new Azure bots are SingleTenant; see docs/teams.md)" if settings.single_tenant is None else ""
        return PlatformStatus(
            "teams",
            True,
            f"POST {ROUTE}, app {settings.microsoft_app_id} "
            f"({settings.microsoft_app_type}{legacy}), every activity's token is verified",
        )
    return PlatformStatus(
        "teams",
        True,
        (
            f"POST {ROUTE} in EMULATOR MODE (TEAMS_EMULATOR=true): activities are NOT authenticated; "
            f"accepted only from this machine (HOST={settings.host})"
        ),
    )
