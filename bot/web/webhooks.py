"""POST /api/webhooks/tickets: helpdesk events (generic JSON, Zendesk, Freshdesk), signed with a shared secret.

Answers: 200 applied / duplicate · 400 malformed JSON or missing fields · 401 wrong or missing signature ·
413 body over 256 KiB · 503 when TICKET_WEBHOOK_SECRET is not set. Nothing is written unless the answer is 200.
Signatures (either one):
  X-Ownerbot-Signature: sha256=<hex HMAC-SHA256 of the raw body, keyed with TICKET_WEBHOOK_SECRET>
  X-Zendesk-Webhook-Signature: <base64 HMAC-SHA256 of timestamp + raw body>, with
  X-Zendesk-Webhook-Signature-Timestamp: <timestamp>   (Zendesk's own scheme; paste its signing secret)
See docs/webhooks.md.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Mapping

from aiohttp import web

from bot.platforms import PlatformStatus
from bot.runtime import Runtime
from bot.settings import TicketWebhookSettings
from db import metrics
from db.structured_logs import log_event
from handlers.helpdesk import HelpdeskIntake
from ownership.errors import DomainError

from .helpdesk_payloads import read_helpdesk_event

log = logging.getLogger(__name__)
PATH = "/api/webhooks/tickets"
MAX_BODY = 256 * 1024
SIGNATURE_HEADER = "X-Ownerbot-Signature"
ZENDESK_SIGNATURE = "X-Zendesk-Webhook-Signature"
ZENDESK_TIMESTAMP = "X-Zendesk-Webhook-Signature-Timestamp"


def sign(secret: str, body: bytes) -> str:
    """The value of X-Ownerbot-Signature for a body (senders and tests use this)."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def sign_zendesk(secret: str, timestamp: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()).decode()


def signature_ok(secret: str, headers: Mapping[str, str], body: bytes) -> bool:
    ours = headers.get(SIGNATURE_HEADER)
    if ours is not None:
        return hmac.compare_digest(ours.strip().encode(), sign(secret, body).encode())
    zendesk, timestamp = headers.get(ZENDESK_SIGNATURE), headers.get(ZENDESK_TIMESTAMP)
    if zendesk is not None and timestamp is not None:
        return hmac.compare_digest(zendesk.strip().encode(), sign_zendesk(secret, timestamp, body).encode())
    return False


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


INTAKE = web.AppKey("ticket_webhook_intake", HelpdeskIntake)
SECRET = web.AppKey("ticket_webhook_secret", str)


OUTCOMES = {401: "unauthorized", 503: "disabled"}
SOURCE = web.RequestKey("webhook_source", str)
OUTCOME = web.RequestKey("webhook_outcome", str)
CHANGES = web.RequestKey("webhook_changes", str)
TICKET = web.RequestKey("webhook_ticket", int)


async def receive(request: web.Request) -> web.Response:
    """`apply`, measured: one structured log line and the webhook counter per delivery."""
    started = time.perf_counter()
    response = await apply(request)
    outcome = request.get(OUTCOME) or OUTCOMES.get(response.status) or ("refused" if response.status < 500 else "error")
    source = request.get(SOURCE) or "unknown"
    metrics.count_webhook(source, outcome)
    log_event(
        log,
        "webhook",
        name=source,
        outcome=outcome,
        seconds=time.perf_counter() - started,
        status=response.status,
        ticket_id=request.get(TICKET),
        changes=request.get(CHANGES),
    )
    return response


async def apply(request: web.Request) -> web.Response:
    if not request.app[SECRET]:
        return _error(503, "webhook disabled: set TICKET_WEBHOOK_SECRET to turn it on")
    if request.content_length is not None and request.content_length > MAX_BODY:
        return _error(413, f"body too large: the limit is {MAX_BODY // 1024} KiB")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_any():
        size += len(chunk)
        if size > MAX_BODY:
            return _error(413, f"body too large: the limit is {MAX_BODY // 1024} KiB")
        chunks.append(chunk)
    body = b"".join(chunks)
    if not signature_ok(request.app[SECRET], request.headers, body):
        return _error(401, f"missing or wrong signature: send {SIGNATURE_HEADER}: sha256=<HMAC-SHA256 of the body>")
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, ValueError) as error:
        return _error(400, f"malformed JSON: {str(error)[:120]}")
    try:
        event = read_helpdesk_event(payload, body_digest=hashlib.sha256(body).hexdigest())
        result = await request.app[INTAKE].receive(event)
    except DomainError as error:
        return _error(400, error.message)
    request[SOURCE], request[OUTCOME] = result.source, result.status
    # the kinds of change only: a new subject is the customer's words, and stays out of the log
    request[CHANGES] = ",".join(change.split(":", 1)[0].split(" ", 1)[0] for change in result.changes)
    request[TICKET] = result.ticket_id or 0
    return web.json_response(result.as_json())


def register(app: web.Application, runtime: Runtime, settings: TicketWebhookSettings) -> PlatformStatus:
    platform, workspace = settings.workspace
    secret = settings.ticket_webhook_secret.get_secret_value() if settings.ticket_webhook_secret else ""
    app[SECRET] = secret
    app[INTAKE] = HelpdeskIntake(runtime.sessions, platform=platform, workspace=workspace, clock=runtime.clock)
    app.router.add_post(PATH, receive)
    name = "helpdesk webhook"
    if not secret:
        return PlatformStatus(name, False, f"TICKET_WEBHOOK_SECRET is not set; POST {PATH} answers 503")
    return PlatformStatus(name, True, f"POST {PATH} into {settings.ticket_webhook_workspace}")
