"""The door of POST /slack/events: a request is signed by Slack, or it gets 401 before anything reads it.

Bolt verifies signatures too, but it reads the headers and the body first: a non-numeric
`X-Slack-Request-Timestamp` or a body that is not UTF-8 made it raise (a 500). Here the headers must have Slack's
exact shape (`X-Slack-Request-Timestamp: <seconds>`, `X-Slack-Signature: v0=<64 hex digits>`), the timestamp must be
within five minutes, and the HMAC-SHA256 of `v0:<timestamp>:<raw body bytes>` must match, before the body is decoded
or parsed. A signed body that is not UTF-8 is a 400.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Callable, Mapping

from aiohttp import web
from slack_bolt.request.async_request import AsyncBoltRequest

TIMESTAMP_HEADER = "X-Slack-Request-Timestamp"
SIGNATURE_HEADER = "X-Slack-Signature"
TIMESTAMP = re.compile(r"[0-9]{1,12}", re.ASCII)
SIGNATURE = re.compile(r"v0=[0-9a-f]{64}", re.ASCII)
WINDOW_SECONDS = 5 * 60


def refused() -> web.Response:
    return web.json_response({"error": "invalid request"}, status=401)


def signed(secret: str, headers: Mapping[str, str], body: bytes, *, now: Callable[[], float] = time.time) -> bool:
    """Whether Slack signed this exact body within the last five minutes (any malformed header: no)."""
    timestamp, signature = headers.get(TIMESTAMP_HEADER, ""), headers.get(SIGNATURE_HEADER, "")
    if not TIMESTAMP.fullmatch(timestamp) or not SIGNATURE.fullmatch(signature):
        return False
    if abs(now() - int(timestamp)) > WINDOW_SECONDS:
        return False
    base = b"v0:" + timestamp.encode() + b":" + body
    expected = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


async def bolt_request(request: web.Request, secret: str) -> AsyncBoltRequest | web.Response:
    """The request for bolt, or the answer that refuses it (401 unsigned, 400 not UTF-8)."""
    body = await request.read()
    if not signed(secret, request.headers, body):
        return refused()
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return web.json_response({"error": "the body is not UTF-8"}, status=400)
    return AsyncBoltRequest(body=text, query=request.query_string, headers=dict(request.headers))
