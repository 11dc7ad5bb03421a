"""The Slack face: a slack-bolt AsyncApp on ownerbot's aiohttp server (and Socket Mode when asked).

`register(app, runtime, settings)` lists its routes and returns whether Slack is on, and why not; `app.py` imports
this package only when Slack is on. Inside: `listeners` (the bolt app), `translate` (payloads to neutral
invocations), `respond` (replies to the invoker), `render` (Block Kit), `notifier` (the bot speaking first).

    POST /slack/events          slash commands, interactivity (buttons, modals) and the Events API
    GET  /slack/install         OAuth install (multi-workspace mode)
    GET  /slack/oauth_redirect  OAuth redirect (multi-workspace mode)
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.app.async_app import AsyncApp

from bot.platforms import PlatformStatus
from bot.runtime import Runtime
from bot.settings import SlackSettings

from . import gate
from .listeners import INSTALL_PATH, REDIRECT_PATH, SlackFace, build_bolt_app
from .notifier import RetryTiming, SlackNotifier

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
SLACK_FACE = web.AppKey("slack_face", SlackFace)
SLACK_SOCKET = web.AppKey("slack_socket", object)


def register(app: web.Application, runtime: Runtime, settings: SlackSettings) -> PlatformStatus:
    """Serve Slack's routes (and Socket Mode) and speak first on Slack through the runtime; say whether Slack is
    on and why not."""
    why_off = settings.off_reason()
    if why_off:
        return PlatformStatus("slack", False, why_off)
    notifier = SlackNotifier(
        api_url=settings.slack_api_url,
        bot_token=None if settings.oauth else settings.bot_token,
        timing=RetryTiming.of(settings),
        sessions=runtime.sessions,
    )
    face = SlackFace(handlers=runtime.handlers, sessions=runtime.sessions, clock=runtime.clock, notifier=notifier)
    bolt = build_bolt_app(face, settings, runtime.engine, notifier.timing)
    app[SLACK_FACE] = face
    runtime.add_notifier(notifier)
    served: list[str] = []

    if settings.signing_secret:
        secret = settings.signing_secret

        async def events(request: web.Request) -> web.Response:
            checked = await gate.bolt_request(request, secret)
            if isinstance(checked, web.Response):
                return checked
            return await to_aiohttp_response(await bolt.async_dispatch(checked))

        app.router.add_post(EVENTS_PATH, events)
        served.append(f"POST {EVENTS_PATH}")
        flow = bolt.oauth_flow
        if flow is not None:

            async def install(request: web.Request) -> web.Response:
                return await to_aiohttp_response(await flow.handle_installation(await to_bolt_request(request)))

            async def redirect(request: web.Request) -> web.Response:
                return await to_aiohttp_response(await flow.handle_callback(await to_bolt_request(request)))

            app.router.add_get(INSTALL_PATH, install)
            app.router.add_get(REDIRECT_PATH, redirect)
            served.append(f"install at {INSTALL_PATH}")

    if settings.app_token:
        socket = socket_mode_handler(bolt, settings)
        app[SLACK_SOCKET] = socket
        connecting: list[asyncio.Task[None]] = []

        async def connect(_: web.Application) -> None:
            connecting.append(asyncio.create_task(_connect_socket(socket)))

        async def disconnect(_: web.Application) -> None:
            for task in connecting:
                task.cancel()
            await socket.close_async()

        app.on_startup.append(connect)
        app.on_cleanup.append(disconnect)
        served.append("Socket Mode")

    async def finish_work(_: web.Application) -> None:
        try:
            await face.work.drain(seconds=10)
        except TimeoutError:
            log.warning("Slack work still running at shutdown")

    async def close_http(_: web.Application) -> None:
        await notifier.close()

    app.on_shutdown.append(finish_work)
    app.on_cleanup.append(close_http)
    mode = "OAuth, any workspace" if settings.oauth else "one workspace"
    return PlatformStatus("slack", True, f"{', '.join(served)}; {mode}")


def socket_mode_handler(bolt: AsyncApp, settings: SlackSettings) -> Any:
    from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

    return AsyncSocketModeHandler(bolt, app_token=settings.app_token, web_client=bolt.client)


async def _connect_socket(socket: Any) -> None:
    try:
        await socket.connect_async()
        log.info("Slack Socket Mode connected")
    except Exception as error:  # keep serving; slack_sdk reconnects once a session exists
        log.error("Slack Socket Mode could not connect: %s", error)
