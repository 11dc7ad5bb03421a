"""A local fake Bot Connector: the REST endpoints botbuilder calls, on 127.0.0.1, recording every request.

It runs in its own thread with its own event loop, because botbuilder fetches the OpenID metadata and signing
keys with blocking `requests` calls from inside the bot's event loop.

It serves a roster (`roster`: Bot Framework id -> the member's JSON) through GET .../members/{id} and the paged
GET .../pagedmembers, and refuses a message over Teams' size limit (100 KB) with 413, like the real service.

Besides the conversation endpoints it publishes OpenID metadata and a JWKS for an RSA key of its own, and signs
Bot Connector-style tokens with it (`token(...)`), so JWT validation runs for real against local keys.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

ISSUER = "https://api.botframework.com"
MAX_MESSAGE_BYTES = 100 * 1024


@dataclass
class Recorded:
    method: str
    path: str  # decoded path, e.g. /v3/conversations/a:personal-ann/activities
    body: Any
    headers: dict[str, str]
    status: int


@dataclass
class Failure:
    status: int
    times: int
    retry_after: str | None = None
    path_contains: str = ""


@dataclass
class FakeBotConnector:
    requests: list[Recorded] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    key_fetches: list[str] = field(default_factory=list)  # OpenID metadata and JWKS requests
    key_id: str = "fake-connector-key"
    roster: dict[str, dict[str, Any]] = field(default_factory=dict)  # Bot Framework id -> TeamsChannelAccount JSON
    page_limit: int = 2  # the most members one page holds (small, so paging really happens)
    key_delay: float = 0.0  # seconds the signing-key endpoints take to answer

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self.private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self.url = ""

    # --- lifecycle -----------------------------------------------------------------------------------------
    def start(self) -> str:
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            self._runner = web.AppRunner(self._app(), access_log=None)
            loop.run_until_complete(self._runner.setup())
            site = web.TCPSite(self._runner, "127.0.0.1", 0)
            loop.run_until_complete(site.start())
            port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            self.url = f"http://127.0.0.1:{port}/"
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=run, name="fake-bot-connector", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("fake Bot Connector did not start")
        return self.url

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)

    # --- what tests use ------------------------------------------------------------------------------------
    def fail(self, status: int, *, times: int = 1, retry_after: str | None = None, path_contains: str = "") -> None:
        """Answer the next `times` matching conversation requests with `status` (e.g. 429 or 503)."""
        with self._lock:
            self.failures.append(Failure(status, times, retry_after, path_contains))

    def sent(self, method: str | None = None, contains: str = "", *, ok_only: bool = True) -> list[Recorded]:
        with self._lock:
            return [
                r
                for r in self.requests
                if (method is None or r.method == method)
                and contains in r.path
                and r.path.startswith("/v3/")
                and (r.status < 300 or not ok_only)
            ]

    @property
    def metadata_url(self) -> str:
        return self.url + "openid/.well-known/openid-configuration"

    def jwk(self) -> dict[str, Any]:
        key = json.loads(RSAAlgorithm.to_jwk(self.private_key.public_key()))
        key.update({"kid": self.key_id, "use": "sig", "endorsements": ["msteams"]})
        return key

    def token(
        self,
        *,
        audience: str,
        service_url: str,
        issuer: str = ISSUER,
        key: Any = None,
        expires_in: int = 3600,
        kid: str | None = None,
    ) -> str:
        """A Bot Connector-style bearer token, signed with this fake's key (or `key`)."""
        now = int(time.time())
        claims = {
            "iss": issuer,
            "aud": audience,
            "serviceurl": service_url,
            "nbf": now - 10,
            "iat": now - 10,
            "exp": now + expires_in,
        }
        return jwt.encode(claims, key or self.private_key, algorithm="RS256", headers={"kid": kid or self.key_id})

    # --- the server ----------------------------------------------------------------------------------------
    def _app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/openid/.well-known/openid-configuration", self._openid)
        app.router.add_get("/openid/keys", self._keys)
        app.router.add_route("*", "/v3/{tail:.*}", self._conversations)
        return app

    async def _openid(self, request: web.Request) -> web.Response:
        with self._lock:
            self.key_fetches.append(request.path)
        if self.key_delay:
            await asyncio.sleep(self.key_delay)
        return web.json_response(
            {"issuer": ISSUER, "jwks_uri": self.url + "openid/keys", "id_token_signing_alg_values_supported": ["RS256"]}
        )

    async def _keys(self, request: web.Request) -> web.Response:
        with self._lock:
            self.key_fetches.append(request.path)
        return web.json_response({"keys": [self.jwk()]})

    def _failure_for(self, path: str) -> Failure | None:
        with self._lock:
            for failure in self.failures:
                if failure.times > 0 and failure.path_contains in path:
                    failure.times -= 1
                    return failure
        return None

    async def _conversations(self, request: web.Request) -> web.Response:
        raw = await request.read()
        body = json.loads(raw) if raw else None
        path = request.path  # aiohttp decodes percent-escapes
        failure = self._failure_for(path)
        status, answer = (
            (
                failure.status,
                {"error": {"code": "Throttled" if failure.status == 429 else "ServiceError", "message": "try later"}},
            )
            if failure
            else self._answer(request.method, path, body, size=len(raw), query=dict(request.query))
        )
        with self._lock:
            self.requests.append(Recorded(request.method, path, body, dict(request.headers), status))
        headers = {"Retry-After": failure.retry_after} if failure and failure.retry_after else None
        return web.json_response(answer, status=status, headers=headers)

    def _answer(
        self, method: str, path: str, body: Any, *, size: int, query: dict[str, str]
    ) -> tuple[int, dict[str, Any]]:
        parts = path.split("/")  # ['', 'v3', 'conversations', cid, 'activities', aid]
        number = next(self._ids)
        if method == "POST" and path.rstrip("/") == "/v3/conversations":
            return 201, {"id": f"a:created-{number}", "activityId": f"created-act-{number}"}
        if method == "GET" and len(parts) == 6 and parts[4] == "members":
            with self._lock:
                found = self.roster.get(parts[5])
            if found is None:
                return 404, {"error": {"code": "MemberNotFoundInConversation", "message": "The member is not found"}}
            return 200, found
        if method == "GET" and len(parts) == 5 and parts[4] == "pagedmembers":
            return 200, self._page(query)
        if method in ("POST", "PUT") and size > MAX_MESSAGE_BYTES and len(parts) >= 5 and parts[4] == "activities":
            return 413, {"error": {"code": "MessageSizeTooBig", "message": "Message size too large"}}
        if len(parts) >= 5 and parts[4] == "activities":
            if method == "POST":
                return 201, {"id": f"sent-{number}"}
            if method == "PUT" and len(parts) == 6:
                return 200, {"id": parts[5]}
            if method == "DELETE":
                return 200, {}
        return 404, {"error": {"code": "NotFound", "message": f"{method} {path} is not faked"}}

    def _page(self, query: dict[str, str]) -> dict[str, Any]:
        """One page of the roster, like GET /v3/conversations/{teamId}/pagedmembers (pageSize, continuationToken)."""
        size = min(int(query.get("pageSize") or 50), self.page_limit)  # pages may be shorter than asked for
        start = int(query.get("continuationToken") or 0)
        with self._lock:
            members = list(self.roster.values())
        page: dict[str, Any] = {"members": members[start : start + size]}
        if start + size < len(members):
            page["continuationToken"] = str(start + size)
        return page
