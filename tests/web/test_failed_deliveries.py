"""The dashboard lists the messages no platform would take (failed outbox rows) of its workspace only."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from bot.console import ConsoleNotifier
from db.models import Platform
from handlers import Reply
from handlers.ports import DeliveryFailed, MessageRef
from jobs.outbox_sender import OutboxSender

from ..conftest import Chat, Clock, Database
from .conftest import TOKEN

AUTH = {"Authorization": f"Bearer {TOKEN}"}


class GoneUser(ConsoleNotifier):
    async def send_direct(self, *, workspace: str, user_id: str, reply: Reply) -> MessageRef:
        if user_id == "U2":
            raise DeliveryFailed("Slack said user_not_found <b>", permanent=True)
        return await super().send_direct(workspace=workspace, user_id=user_id, reply=reply)


async def test_failed_deliveries_are_listed(
    chat: Chat, db: Database, clock: Clock, web_client: TestClient, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    assert not (await chat.say("U_LEAD", "customer add Acme")).error
    assert not (await chat.say("U1", "claim acme")).error
    assert not (await chat.say("U1", "handoff acme <@U2> they speak German")).error  # owes U2 the offer
    empty = await (await web_client.get("/dashboard.json?workspace=console:T1", headers=AUTH)).json()
    assert empty["failed_deliveries"] == []
    await OutboxSender(db.sessions, {Platform.CONSOLE: GoneUser(tmp_path / "inbox")}, clock).send_due()

    data = await (await web_client.get("/dashboard.json?workspace=console:T1", headers=AUTH)).json()
    [failed] = data["failed_deliveries"]
    assert (failed["purpose"], failed["direct"], failed["target"]) == ("notice", True, "U2")
    assert "user_not_found" in failed["error"]
    page = await (await web_client.get("/dashboard?workspace=console:T1", headers=AUTH)).text()
    assert "Failed deliveries" in page and "DM to U2" in page and "user_not_found &lt;b&gt;" in page
    assert not (await chat.say("U_ADMIN", "mine")).error
    other = await web_client.get("/dashboard.json?workspace=console:nope", headers=AUTH)
    assert other.status == 404
