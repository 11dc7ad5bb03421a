"""Handoff through the modal, Accept / Decline buttons in the receiver's DM, and the decline reason modal."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from db.models import HandoffRequest, HandoffStatus, Member, OwnershipEvent
from handlers import ActionId

from ..conftest import Database
from .conftest import SlackDriver, buttons_of, owner_of, seeded, text_of


async def handoffs(db: Database) -> list[HandoffRequest]:
    async with db.sessions() as session:
        return list((await session.execute(select(HandoffRequest).order_by(HandoffRequest.id))).scalars())


async def offer_acme_to_sam(slack: SlackDriver, db: Database) -> dict:
    """U1 owns Acme, runs `/handoff acme @sam` without a reason, and gives one in the modal."""
    await seeded(slack, "Acme")
    await slack.command("U1", "/claim", "acme")
    slack.fake.reset()
    response, key = await slack.command("U1", "/handoff", "acme <@U2|sam>")
    assert response.status == 200
    modal = slack.last_modal()
    assert slack.fake.called("views.open")[-1]["trigger_id"].startswith("trigger.")
    assert modal["type"] == "modal" and modal["title"]["text"] == "Hand off"
    [field] = [b for b in modal["blocks"] if b["type"] == "input"]
    assert field["element"]["type"] == "plain_text_input" and field["element"]["min_length"] == 10
    assert "optional" not in field or field["optional"] is False
    assert "Why should Sam take Acme?" in field["label"]["text"]
    assert slack.fake.posts_to(key) == []  # the modal is the answer; nothing posted yet

    short = await slack.submit("U1", modal, "   ")
    errors = await short.json()
    assert errors["response_action"] == "errors"
    assert "at least 10 characters" in errors["errors"][field["block_id"]]
    short = await slack.submit("U1", modal, "German")
    assert (await short.json())["response_action"] == "errors"
    assert await handoffs(db) == []  # a refused reason writes nothing

    done = await slack.submit("U1", modal, "customer needs a German speaker")
    assert done.status == 200 and await done.text() == ""  # closes the modal
    [announced] = slack.fake.posts_to(key)
    assert announced["response_type"] == "in_channel"  # announced where it was made
    assert "Handoff of Acme to <@U2> requested." in text_of(announced)
    assert "customer needs a German speaker" in text_of(announced)
    [offer] = slack.fake.dms_to("U2")
    assert [c["users"] for c in slack.fake.called("conversations.open")] == ["U2"]
    assert "<@U1> wants to hand Acme over to you." in text_of(offer)
    assert "customer needs a German speaker" in text_of(offer)
    assert set(buttons_of(offer)) == {"Accept", "Decline"}
    assert await owner_of(db, "Acme") == "U1"  # warm: still Uma's until Sam accepts
    [pending] = await handoffs(db)
    assert pending.status == HandoffStatus.PENDING and pending.platform.value == "slack"
    return {"ts": "1700000000.000777", "blocks": offer["blocks"]}


async def test_handoff_modal_then_accept_updates_the_original_message(slack: SlackDriver, db: Database) -> None:
    offer = await offer_acme_to_sam(slack, db)
    async with db.sessions() as session:  # Sam never used ownerbot: introduced from the mention via users.info
        sam = (await session.execute(select(Member).where(Member.platform_user_id == "U2"))).scalar_one()
    assert (sam.display_name, sam.time_zone) == ("Sam", "America/New_York")

    action_id, value = buttons_of(offer)["Accept"]
    slack.fake.reset()
    _, key = await slack.click("U2", action_id, value, message=offer)
    [updated] = slack.fake.posts_to(key)
    assert updated["replace_original"] is True  # the offer turns into the outcome, no new message
    assert "You now own Acme." in text_of(updated) and buttons_of(updated) == {}
    assert await owner_of(db, "Acme") == "U2"
    [told] = slack.fake.dms_to("U1")
    assert "<@U2> accepted Acme; it is theirs now." in text_of(told)
    assert "customer needs a German speaker" in text_of(told)

    _, key = await slack.click("U2", action_id, value, message=offer)  # a double click
    [again] = slack.fake.posts_to(key)
    assert again["replace_original"] is False and again["response_type"] == "ephemeral"
    assert "already accepted" in text_of(again)
    async with db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(OwnershipEvent)) == 3


async def test_decline_asks_for_a_reason_in_a_modal(slack: SlackDriver, db: Database) -> None:
    offer = await offer_acme_to_sam(slack, db)
    action_id, value = buttons_of(offer)["Decline"]
    assert action_id == ActionId.DECLINE_HANDOFF
    slack.fake.reset()
    _, key = await slack.click("U2", action_id, value, message=offer)
    modal = slack.last_modal()
    assert modal["title"]["text"] == "Decline handoff"
    assert json.loads(modal["private_metadata"])["r"] == slack.fake.response_url(key)

    stolen = await slack.submit("U3", modal, "I want it for myself")  # someone else can't answer it
    assert (await stolen.json())["response_action"] == "errors"
    blank = await slack.submit("U2", modal, "nope")
    assert "at least 10 characters" in json.dumps(await blank.json())
    [pending] = await handoffs(db)
    assert pending.status == HandoffStatus.PENDING

    done = await slack.submit("U2", modal, "I am out all next week")
    assert done.status == 200
    [updated] = slack.fake.posts_to(key)
    assert updated["replace_original"] is True and "You declined Acme." in text_of(updated)
    assert "I am out all next week" in text_of(updated) and buttons_of(updated) == {}
    [told] = slack.fake.dms_to("U1")
    assert "<@U2> declined Acme; it stays with its owner." in text_of(told)
    assert "I am out all next week" in text_of(told) and "customer needs a German speaker" in text_of(told)
    [declined] = await handoffs(db)
    assert declined.status == HandoffStatus.DECLINED and declined.decline_reason == "I am out all next week"
    assert await owner_of(db, "Acme") == "U1"
