"""POST /api/webhooks/tickets: helpdesk events (generic JSON, Zendesk, Freshdesk), signed with a shared secret.

Answers: 200 applied / duplicate · 400 malformed JSON (not UTF-8, nested deeper than 32) or missing fields · 401
wrong, missing or malformed signature · 413 body over 256 KiB · 415 not JSON · 422 could not be applied: kept as
failed, never retried · 503 when TICKET_WEBHOOK_SECRET is not set. Nothing is applied unless the answer is 200.
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
MAX_DEPTH = 32  # no helpdesk nests deeper; json.loads would recurse on an attacker's 100,000 brackets
MAX_HEADER = 512
SIGNATURE_HEADER = "X-Ownerbot-Signature"
ZENDESK_SIGNATURE = "X-Zendesk-Webhook-Signature"
ZENDESK_TIMESTAMP = "X-Zendesk-Webhook-Signature-Timestamp"


def sign(secret: str, body: bytes) -> str:
    """The value of X-Ownerbot-Signature for a body (senders and tests use this)."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def sign_zendesk(secret: str, timestamp: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()).decode()


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """A signature header's value; one that is not printable ASCII (a non-UTF-8 or control byte) is absent."""
    value = headers.get(name)
    if value is None or not value.isascii() or not value.strip().isprintable() or len(value) > MAX_HEADER:
        return None
    return value.strip()


def signature_ok(secret: str, headers: Mapping[str, str], body: bytes) -> bool:
    ours = _header(headers, SIGNATURE_HEADER)
    if ours is not None:
        return hmac.compare_digest(ours.encode(), sign(secret, body).encode())
    zendesk, timestamp = _header(headers, ZENDESK_SIGNATURE), _header(headers, ZENDESK_TIMESTAMP)
    if zendesk is not None and timestamp is not None:
        return hmac.compare_digest(zendesk.encode(), sign_zendesk(secret, timestamp, body).encode())
    return False


def too_deep(body: bytes, limit: int) -> bool:
    """Whether JSON `body` nests arrays/objects deeper than `limit`, read without parsing it (strings skipped)."""
    depth = 0
    in_string = escaped = False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > limit:
                return True
        elif byte in (0x5D, 0x7D):
            depth -= 1
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
    if request.content_type != "application/json" and not request.content_type.endswith("+json"):
        return _error(415, "send the event as JSON: Content-Type: application/json")
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
    if too_deep(body, MAX_DEPTH):
        return _error(400, f"malformed JSON: nested deeper than {MAX_DEPTH} levels")
    try:
        payload = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        return _error(400, "malformed JSON: the body is not UTF-8")
    except (ValueError, RecursionError) as error:
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
    if result.status == "failed":
        where = f" (delivery {result.delivery_id})" if result.delivery_id else ""
        return web.json_response(
            {
                "status": "failed",
                "error": f"this event could not be applied and is kept as failed{where}; it will not be tried again."
                " An admin sees it with `./ownerbot webhooks`.",
            },
            status=422,
        )
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
