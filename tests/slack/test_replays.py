"""Replayed and malformed requests: a signed slash command, button click or form submit sent again within the
five minutes its signature is good for is acknowledged and ignored; malformed signature headers get 401 before
anything is read."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from typing import Any

import pytest
from sqlalchemy import func, select

from db.models import CustomerIdea, HandoffRequest, OwnershipEvent, SlackEvent

from ..conftest import Database
from ..snapshot import changed_tables, snapshot
from .conftest import SIGNING_SECRET, SlackDriver, buttons_of, seeded, sign, text_of


class Recorder:
    """Remembers the last request the driver sent, with its timestamp, so a test can send the same bytes again."""

    def __init__(self, slack: SlackDriver, monkeypatch: pytest.MonkeyPatch) -> None:
        self.slack = slack
        self.sent: list[tuple[str, str, int]] = []
        post = slack.post

        async def recording(body: str, content_type: str, **kwargs: Any) -> Any:
            kwargs["timestamp"] = kwargs.get("timestamp") or int(time.time())
            self.sent.append((body, content_type, kwargs["timestamp"]))
            return await post(body, content_type, **kwargs)

        monkeypatch.setattr(slack, "post", recording)
        self.post = post

    async def replay(self) -> Any:
        body, content_type, timestamp = self.sent[-1]
        return await self.post(body, content_type, timestamp=timestamp)


async def count(db: Database, model: type) -> int:
    async with db.sessions() as session:
        return await session.scalar(select(func.count()).select_from(model)) or 0


async def test_a_replayed_slash_command_is_acknowledged_and_applied_once(
    slack: SlackDriver, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    await seeded(slack, "Acme")
    recorder = Recorder(slack, monkeypatch)
    first, key = await slack.command("U1", "/ownerbot", "idea acme a dark mode for the reports")
    again = await recorder.replay()
    assert (first.status, again.status) == (200, 200)
    assert await count(db, CustomerIdea) == 1
    assert len(slack.fake.posts_to(key)) == 1  # one answer: the replay is silent
    fresh, _ = await slack.command("U1", "/ownerbot", "idea acme a dark mode for the reports")
    assert fresh.status == 200 and await count(db, CustomerIdea) == 2  # the same words typed again are new


async def test_a_replayed_button_click_and_form_submit_change_nothing(
    slack: SlackDriver, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    await seeded(slack, "Acme")
    await slack.command("U1", "/claim", "acme")
    recorder = Recorder(slack, monkeypatch)
    await slack.command("U1", "/handoff", "acme <@U2|sam>")
    modal = slack.last_modal()
    submitted = await slack.submit("U1", modal, "customer needs a German speaker")
    before = await snapshot(db.engine)
    replayed = await recorder.replay()
    assert (submitted.status, replayed.status) == (200, 200) and await replayed.text() == ""  # closes the modal
    assert changed_tables(before, await snapshot(db.engine)) == []
    assert await count(db, HandoffRequest) == 1 and len(slack.fake.dms_to("U2")) == 1

    [offer] = slack.fake.dms_to("U2")
    accept_id, handoff_id = buttons_of(offer)["Accept"]
    _, key = await slack.click("U2", accept_id, handoff_id, message={"ts": "1.2", "blocks": offer["blocks"]})
    events = await count(db, OwnershipEvent)
    before = await snapshot(db.engine)
    replayed = await recorder.replay()
    assert replayed.status == 200
    assert changed_tables(before, await snapshot(db.engine)) == []
    assert await count(db, OwnershipEvent) == events
    [answer] = slack.fake.posts_to(key or "")  # the replay says nothing, not even "no longer pending"
    assert "You now own Acme." in text_of(answer)


async def test_an_interaction_without_a_trigger_id_is_keyed_by_its_signed_bytes(
    slack: SlackDriver, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    await seeded(slack, "Acme")
    recorder = Recorder(slack, monkeypatch)
    body = (
        "team_id=T1&team_domain=t1&channel_id=C1&user_id=U1&user_name=u1&command=%2Fownerbot"
        "&text=idea+acme+faster+exports+please&response_url=" + slack.fake.response_url("k1")
    )
    timestamp = int(time.time())
    await recorder.post(body, "application/x-www-form-urlencoded", timestamp=timestamp)
    await recorder.post(body, "application/x-www-form-urlencoded", timestamp=timestamp)
    assert await count(db, CustomerIdea) == 1
    await recorder.post(body, "application/x-www-form-urlencoded", timestamp=timestamp - 1)  # signed anew: new
    assert await count(db, CustomerIdea) == 2


async def test_replays_racing_each_other_apply_once(
    slack: SlackDriver, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    await seeded(slack, "Acme")
    recorder = Recorder(slack, monkeypatch)
    keys = await count(db, SlackEvent)
    await slack.command("U1", "/ownerbot", "idea acme one idea sent five times at once")
    await asyncio.gather(*(recorder.replay() for _ in range(4)))
    assert await count(db, CustomerIdea) == 1
    assert await count(db, SlackEvent) == keys + 1  # one key row: the request


MALFORMED = [
    {"X-Slack-Request-Timestamp": "not-a-number"},
    {"X-Slack-Request-Timestamp": "1e9"},
    {"X-Slack-Request-Timestamp": "١٧٠٠٠٠٠٠٠٠"},
    {"X-Slack-Request-Timestamp": "99999999999999999999999"},
    {"X-Slack-Request-Timestamp": ""},
    {"X-Slack-Signature": "v0=zz"},
    {"X-Slack-Signature": "v1=" + "0" * 64},
    {"X-Slack-Signature": ""},
]


@pytest.mark.parametrize("headers", MALFORMED, ids=[str(h) for h in MALFORMED])
async def test_malformed_signature_headers_get_401_before_anything_is_read(
    slack: SlackDriver, db: Database, headers: dict[str, str]
) -> None:
    await seeded(slack, "Acme")
    slack.fake.reset()
    before = await snapshot(db.engine)
    body = "team_id=T1&user_id=U1&command=%2Fclaim&text=acme&trigger_id=t.x"
    response = await slack.post(body, "application/x-www-form-urlencoded", headers=headers)
    assert response.status == 401 and (await response.json()) == {"error": "invalid request"}
    assert changed_tables(before, await snapshot(db.engine)) == [] and slack.fake.calls == []


async def raw_request(slack: SlackDriver, head: bytes, body: bytes) -> bytes:
    """Bytes on the wire, for what an HTTP client library would refuse to send (non-UTF-8 header values)."""
    reader, writer = await asyncio.open_connection(slack.client.host, slack.client.port)
    writer.write(head + b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
    await writer.drain()
    answer = await reader.read()
    writer.close()
    return answer


async def test_non_utf8_headers_and_bodies_are_refused_not_crashed(slack: SlackDriver, db: Database) -> None:
    await seeded(slack, "Acme")
    before = await snapshot(db.engine)
    now = str(int(time.time())).encode()
    body = b"team_id=T1&user_id=U1&command=%2Fclaim&text=acme\xff\xfe"
    head = b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
    bad_signature = await raw_request(
        slack, head + b"X-Slack-Request-Timestamp: " + now + b"\r\nX-Slack-Signature: v0=\xff\xfe\xc3\x28\r\n", body
    )
    assert bad_signature.startswith(b"HTTP/1.1 401"), bad_signature[:80]
    bad_timestamp = await raw_request(
        slack, head + b"X-Slack-Request-Timestamp: \xd9\xa1\xff\r\nX-Slack-Signature: v0=" + b"0" * 64 + b"\r\n", body
    )
    assert bad_timestamp.startswith(b"HTTP/1.1 401"), bad_timestamp[:80]
    digest = hmac.new(SIGNING_SECRET.encode(), b"v0:" + now + b":" + body, hashlib.sha256).hexdigest()
    signed_latin1 = await raw_request(
        slack,
        head + b"X-Slack-Request-Timestamp: " + now + b"\r\nX-Slack-Signature: v0=" + digest.encode() + b"\r\n",
        body,
    )
    assert signed_latin1.startswith(b"HTTP/1.1 400"), signed_latin1[:80]  # signed, but not UTF-8: a reason, no 500
    assert changed_tables(before, await snapshot(db.engine)) == []
    assert sign("x", 1).startswith("v0=")
