"""Outbox fixtures: a fake Slack that can trap one DM (hang before taking it, or take it and never answer), and
real `ownerbot serve` processes in front of it, driven with signed Slack requests over HTTP."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from ..conftest import Database
from ..slack.conftest import BOT_TOKEN, SIGNING_SECRET, Call, FakeSlack, sign

ROOT = Path(__file__).resolve().parents[2]
OWNERBOT = str(ROOT / "ownerbot")


class TrappingSlack(FakeSlack):
    """`trap(channel, before=True)`: the next chat.postMessage to `channel` hangs before Slack takes it (nothing
    recorded); `before=False`: Slack takes it (recorded) and never answers. `sprung` is set when it happens."""

    def __init__(self) -> None:
        super().__init__()
        self.trap_channel: str | None = None
        self.trap_before = True
        self.sprung = asyncio.Event()

    def trap(self, channel: str, *, before: bool) -> None:
        self.trap_channel, self.trap_before = channel, before

    async def api(self, request: web.Request) -> web.Response:
        if request.match_info["method"] == "chat.postMessage" and self.trap_channel is not None:
            # (the body can be read once: this path answers by itself)
            form = dict(await request.post()) if request.content_type != "application/json" else await request.json()
            auth = request.headers.get("Authorization", "").removeprefix("Bearer ")
            if form.get("channel") == self.trap_channel:
                self.trap_channel = None
                if not self.trap_before:
                    self.calls.append(Call("chat.postMessage", form, auth))  # taken: Slack shows it
                self.sprung.set()
                await asyncio.Event().wait()  # the answer never comes
            self.calls.append(Call("chat.postMessage", form, auth))
            return web.json_response(self.answer("chat.postMessage", form))
        return await super().api(request)


@pytest.fixture
async def trapping_slack() -> AsyncIterator[TrappingSlack]:
    fake = TrappingSlack()
    app = web.Application()
    app.router.add_route("*", "/api/{method}", fake.api)
    app.router.add_post("/respond/{key}", fake.respond)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    fake.base = str(server.make_url("")).rstrip("/")
    yield fake
    await server.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """One real `ownerbot serve` process (Slack on, in front of the fake), ticking every second."""

    sent = 0

    def __init__(self, db: Database, fake: FakeSlack, workdir: Path, *, lease_seconds: float = 2) -> None:
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MICROSOFT_", "NUDGE_", "OUTBOX_"))}
        env.update(
            {
                "DATABASE_URL": db.url,
                "PORT": str(self.port),
                "HOST": "127.0.0.1",
                "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                "SLACK_BOT_TOKEN": BOT_TOKEN,
                "SLACK_API_URL": fake.api_url,
                "SLACK_RETRY_BASE_SECONDS": "0",
                "SLACK_RETRY_JITTER_SECONDS": "0",
                "NUDGE_TICK_SECONDS": "1",
                "OUTBOX_LEASE_SECONDS": str(lease_seconds),
                "OWNERBOT_ADMINS": "U_ADMIN",
                "CONSOLE_INBOX": str(workdir / "inbox"),
            }
        )
        self.process = subprocess.Popen(
            [OWNERBOT, "serve"], cwd=workdir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        self.fake = fake

    async def ready(self) -> None:
        deadline = time.monotonic() + 60
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < deadline:
                assert self.process.poll() is None, (self.process.stderr.read() or b"").decode()[-3000:]  # type: ignore[union-attr]
                try:
                    async with http.get(f"http://127.0.0.1:{self.port}/healthz") as response:
                        if response.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.2)
        raise AssertionError("the server did not start")

    async def command(self, user: str, command: str, text: str = "") -> list[dict[str, Any]]:
        """A signed slash command; returns its answer (in its ack, or posted to its response_url)."""
        Server.sent += 1
        key = f"{user}-{Server.sent}"
        body = urlencode(
            {
                "team_id": "T1",
                "team_domain": "t1",
                "channel_id": "C1",
                "user_id": user,
                "user_name": user.lower(),
                "command": command,
                "text": text,
                "api_app_id": "A0OWNERBOT",
                "response_url": self.fake.response_url(key),
                "trigger_id": f"trigger.{Server.sent}",  # each command its own (a repeated one is a replay)
            }
        )
        timestamp = int(time.time())
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                f"http://127.0.0.1:{self.port}/slack/events",
                data=body.encode(),
                headers={
                    "Content-Type": "application/x-www-form-urlencoded",
                    "X-Slack-Request-Timestamp": str(timestamp),
                    "X-Slack-Signature": sign(body, timestamp),
                },
            ) as response,
        ):
            assert response.status == 200
            self.fake.answered_in_ack(key, await response.read())
        return await answered(self.fake, key)

    def kill(self) -> None:
        self.process.kill()  # SIGKILL: no shutdown hooks, no draining
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()


async def answered(fake: FakeSlack, key: str, seconds: float = 30) -> list[dict[str, Any]]:
    """Wait for the answer to a command (its response_url posts)."""
    deadline = time.monotonic() + seconds
    while not fake.posts_to(key) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    return fake.posts_to(key)
