"""Teams at the wire: real activity JSON into POST /api/messages, a fake Bot Connector recording what was sent,
and the database checked afterwards. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import select

from db.models import (
    Customer,
    HandoffRequest,
    HandoffStatus,
    Member,
    OwnershipEvent,
    Platform,
    TeamsConversation,
    TeamsMember,
    Workspace,
)
from handlers import ActionId, Reply

from ..conftest import Database
from .conftest import CHANNEL, OTHER_TENANT, PEOPLE, TEAM, TENANT, TeamsWire, actions_of, card_of, count, text_of


async def owner_of(db: Database, customer: str) -> str | None:
    async with db.sessions() as session:
        return await session.scalar(
            select(Member.platform_user_id)
            .join(Customer, Customer.owner_id == Member.id)
            .where(Customer.name == customer)
        )


async def setup_team(wire: TeamsWire) -> None:
    """Admin adds Acme; Ann and Sam have each said hello to ownerbot in a personal chat."""
    await wire.say("admin", "customer add Acme --tier premium")
    await wire.say("ann", "mine")
    await wire.say("sam", "mine")


async def test_personal_chat_command_claims_and_replies_in_the_chat(wire: TeamsWire, db: Database) -> None:
    await wire.say("admin", "customer add Acme")
    message = await wire.say("ann", "claim acme")

    replies = wire.dm("ann")
    assert len(replies) == 1
    assert replies[-1]["replyToId"] == message["id"]
    assert replies[-1]["text"] == "<at>Ann Agent</at> now owns Acme."
    assert await owner_of(db, "Acme") == PEOPLE["ann"][0]  # members are keyed by their Entra object id
    async with db.sessions() as session:
        workspace = (await session.execute(select(Workspace))).scalar_one()
        assert (workspace.platform, workspace.external_id) == (Platform.TEAMS, TENANT)
        chat = (
            await session.execute(select(TeamsConversation).where(TeamsConversation.user_id == PEOPLE["ann"][0]))
        ).scalar_one()
        member = (await session.execute(select(Member).where(Member.platform_user_id == PEOPLE["ann"][0]))).scalar_one()
    assert (chat.kind, chat.conversation_id, chat.tenant_id) == ("personal", "a:personal-ann", TENANT)
    assert member.time_zone == "Europe/Berlin" and member.display_name == "Ann Agent"


async def test_unknown_command_is_a_friendly_error_and_changes_nothing(wire: TeamsWire, db: Database) -> None:
    await wire.say("ann", "clam acme")
    assert "I don't know the command `clam`" in wire.dm("ann")[-1]["text"]
    assert await count(db, Customer) == 0 and await count(db, OwnershipEvent) == 0


async def test_channel_mention_strips_the_bot_and_maps_people_by_entra_id(wire: TeamsWire, db: Database) -> None:
    await setup_team(wire)
    await wire.say("ann", "claim acme", channel=True)
    thread = wire.to(CHANNEL)
    assert thread[-1]["text"] == "<at>Ann Agent</at> now owns Acme."
    assert thread[-1]["conversation"]["id"].startswith(CHANNEL)  # answered in the thread it was asked in
    assert await owner_of(db, "Acme") == PEOPLE["ann"][0]

    await wire.say("ann", "handoff acme @sam the customer needs a German speaker", channel=True, mentions=["sam"])
    announced = wire.to(CHANNEL)[-1]
    assert "Handoff of Acme to <at>Sam Jones</at> requested" in text_of(announced)
    async with db.sessions() as session:
        handoff = (await session.execute(select(HandoffRequest))).scalar_one()
        to_member = await session.get(Member, handoff.to_member_id)
        channel_row = (
            await session.execute(select(TeamsConversation).where(TeamsConversation.kind == "channel"))
        ).scalar_one()
    assert to_member.platform_user_id == PEOPLE["sam"][0]
    assert handoff.reason == "the customer needs a German speaker"
    assert (channel_row.conversation_id, channel_row.team_id) == (CHANNEL, TEAM)  # the channel, not the thread

    offer = card_of(wire.dm("sam")[-1])  # the offer reached Sam's personal chat proactively
    assert "<at>Ann Agent</at> wants to hand Acme over to you." in text_of(offer)
    buttons = actions_of(offer)
    assert buttons["Accept"] == {"action_id": ActionId.ACCEPT_HANDOFF, "value": str(handoff.id)}
    assert offer["actions"][0]["type"] == "Action.Execute"
    assert offer["actions"][0]["fallback"]["type"] == "Action.Submit"


async def test_handoff_without_reason_asks_with_a_required_input_then_hands_off(wire: TeamsWire, db: Database) -> None:
    await setup_team(wire)
    await wire.say("ann", "claim acme")
    await wire.say("ann", "handoff acme @sam", mentions=["sam"])

    ask = wire.dm("ann")[-1]
    card = card_of(ask)
    field = next(item for item in card["body"] if item["type"] == "Input.Text")
    assert field["isRequired"] is True and field["id"] == "input"
    assert field["regex"].startswith("^[\\s\\S]{10,")
    assert "A handoff needs a reason" in text_of(card)
    send = actions_of(card)["Send"]
    assert send["action_id"] == ActionId.HANDOFF_REASON
    assert await count(db, HandoffRequest) == 0

    # Too short (a client that skipped validation): the same card comes back, in place, with the error.
    response = await wire.submit("ann", {**send, "input": "because"}, reply_to="prompt-card-1")
    assert response.status == 200
    updated = wire.connector.sent("PUT", "/activities/prompt-card-1")
    assert len(updated) == 1
    again = card_of(updated[-1].body)
    assert "at least 10 characters" in text_of(again)
    assert any(item["type"] == "Input.Text" for item in again["body"])
    assert await count(db, HandoffRequest) == 0

    await wire.submit(
        "ann", {**send, "input": "Sam speaks German and the customer asked for it"}, reply_to="prompt-card-1"
    )
    done = wire.connector.sent("PUT", "/activities/prompt-card-1")[-1].body
    assert "Handoff of Acme to <at>Sam Jones</at> requested" in text_of(done)
    async with db.sessions() as session:
        handoff = (await session.execute(select(HandoffRequest))).scalar_one()
    assert handoff.status == HandoffStatus.PENDING
    assert handoff.reason == "Sam speaks German and the customer asked for it"
    assert handoff.platform == Platform.TEAMS
    assert "wants to hand Acme over to you" in text_of(wire.dm("sam")[-1])
    assert await owner_of(db, "Acme") == PEOPLE["ann"][0]  # warm: Ann owns it until Sam accepts


async def offer_acme_to_sam(wire: TeamsWire) -> dict[str, dict]:
    await setup_team(wire)
    await wire.say("ann", "claim acme")
    await wire.say("ann", "handoff acme @sam the customer needs a German speaker", mentions=["sam"])
    return actions_of(card_of(wire.dm("sam")[-1]))


async def test_accept_by_adaptive_card_invoke_replaces_the_card(wire: TeamsWire, db: Database) -> None:
    buttons = await offer_acme_to_sam(wire)
    before = len(wire.dm("ann"))
    response = await wire.invoke("sam", buttons["Accept"])

    assert response.status == 200
    assert response.content_type == "application/json"
    body = await response.json()
    assert body["statusCode"] == 200 and body["type"] == "application/vnd.microsoft.card.adaptive"
    assert body["value"]["type"] == "AdaptiveCard"
    assert "You now own Acme." in text_of(body["value"])
    assert await owner_of(db, "Acme") == PEOPLE["sam"][0]
    told = wire.dm("ann")[before:]
    assert len(told) == 1 and "<at>Sam Jones</at> accepted Acme" in text_of(told[0])

    twice = await (await wire.invoke("sam", buttons["Accept"])).json()
    assert twice["type"] == "application/vnd.microsoft.activity.message"  # an error leaves the card alone
    assert "already accepted" in wire.dm("sam")[-1]["text"]
    assert await owner_of(db, "Acme") == PEOPLE["sam"][0]


async def test_decline_by_action_submit_asks_why_then_updates_the_card(wire: TeamsWire, db: Database) -> None:
    buttons = await offer_acme_to_sam(wire)
    offer_id = "offer-card-7"
    await wire.submit("sam", buttons["Decline"], reply_to=offer_id)
    prompt = card_of(wire.connector.sent("PUT", f"/activities/{offer_id}")[-1].body)
    assert "Why are you declining?" in text_of(prompt)
    send = actions_of(prompt)["Send"]
    assert send["action_id"] == ActionId.DECLINE_REASON

    before = len(wire.dm("ann"))
    await wire.submit("sam", {**send, "input": "I am out all next week"}, reply_to=offer_id)
    final = card_of(wire.connector.sent("PUT", f"/activities/{offer_id}")[-1].body)
    assert "You declined Acme." in text_of(final)
    async with db.sessions() as session:
        handoff = (await session.execute(select(HandoffRequest))).scalar_one()
    assert handoff.status == HandoffStatus.DECLINED and handoff.decline_reason == "I am out all next week"
    assert await owner_of(db, "Acme") == PEOPLE["ann"][0]
    assert "I am out all next week" in text_of(wire.dm("ann")[before])


async def test_someone_else_cannot_answer_the_handoff(wire: TeamsWire, db: Database) -> None:
    buttons = await offer_acme_to_sam(wire)
    await wire.say("eve", "mine")
    body = await (await wire.invoke("eve", buttons["Accept"])).json()
    assert body["type"] == "application/vnd.microsoft.activity.message"
    assert await owner_of(db, "Acme") == PEOPLE["ann"][0]
    async with db.sessions() as session:
        assert (await session.execute(select(HandoffRequest.status))).scalar_one() == HandoffStatus.PENDING


async def test_a_user_from_another_tenant_sees_nothing_of_the_first(wire: TeamsWire, db: Database) -> None:
    buttons = await offer_acme_to_sam(wire)
    events = await count(db, OwnershipEvent)

    await wire.say("eve", "whoowns acme", tenant=OTHER_TENANT)
    assert 'I don\'t know a customer called "acme"' in wire.dm("eve")[-1]["text"]
    await wire.say("eve", "customers", tenant=OTHER_TENANT)
    assert "Acme" not in text_of(wire.dm("eve")[-1])
    await wire.say("eve", "claim acme", tenant=OTHER_TENANT)
    body = await (await wire.invoke("eve", buttons["Accept"], tenant=OTHER_TENANT)).json()
    assert body["type"] == "application/vnd.microsoft.activity.message"  # the other tenant's handoff id is unknown

    assert await owner_of(db, "Acme") == PEOPLE["ann"][0]
    assert await count(db, OwnershipEvent) == events
    async with db.sessions() as session:
        tenants = set((await session.execute(select(Workspace.external_id))).scalars())
        eve_refs = (
            (
                await session.execute(
                    select(TeamsConversation.tenant_id).where(TeamsConversation.user_id == PEOPLE["eve"][0])
                )
            )
            .scalars()
            .all()
        )
    assert tenants == {TENANT, OTHER_TENANT}
    assert eve_refs == [OTHER_TENANT]


async def test_conversation_update_stores_channel_and_member_references(wire: TeamsWire, db: Database) -> None:
    wire.connector.roster.clear()  # only who the update announces (test_teams_roster reads a whole team)
    response = await wire.members_added(
        [{"id": "28:ownerbot-app-id"}, wire.account("sam"), {"id": PEOPLE["eve"][1], "aadObjectId": PEOPLE["eve"][0]}]
    )
    assert response.status == 200
    async with db.sessions() as session:
        channel = (await session.execute(select(TeamsConversation))).scalar_one()
        members = {m.user_id: m for m in (await session.execute(select(TeamsMember))).scalars()}
    assert (channel.kind, channel.conversation_id, channel.team_id, channel.tenant_id) == (
        "channel",
        CHANNEL,
        TEAM,
        TENANT,
    )
    assert set(members) == {PEOPLE["admin"][0], PEOPLE["sam"][0], PEOPLE["eve"][0]}  # not the bot itself
    assert members[PEOPLE["sam"][0]].bot_user_id == PEOPLE["sam"][1]
    assert members[PEOPLE["sam"][0]].service_url == wire.connector.url
    assert not wire.connector.sent("POST")  # a team install posts nothing by itself

    # later, a channel post goes out through the stored reference
    ref = await wire.notifier.post_channel(workspace=TENANT, channel_id=CHANNEL, reply=Reply("Daily digest"))
    posted = wire.connector.sent("POST", f"/v3/conversations/{CHANNEL}/activities")
    assert len(posted) == 1 and posted[0].body["text"] == "Daily digest"
    assert ref.channel_id == CHANNEL and ref.message_id


async def test_bot_installed_in_a_personal_chat_says_hello(wire: TeamsWire, db: Database) -> None:
    await wire.members_added([{"id": "28:ownerbot-app-id"}], channel=False, by="ann")
    assert "Type `help`" in wire.dm("ann")[-1]["text"]
    async with db.sessions() as session:
        chat = (await session.execute(select(TeamsConversation))).scalar_one()
    assert (chat.kind, chat.user_id) == ("personal", PEOPLE["ann"][0])


async def test_card_invoke_without_an_ownerbot_action_is_a_clean_400(wire: TeamsWire, db: Database) -> None:
    response = await wire.invoke("ann", {"something": "else"}, verb="other")
    assert response.status == 400
    body = await response.json()
    assert body["statusCode"] == 400 and body["type"] == "application/vnd.microsoft.error"
    assert await count(db, HandoffRequest) == 0


async def test_malformed_requests_are_refused(wire: TeamsWire) -> None:
    bad_json = await wire.client.post("/api/messages", data="{not json", headers={"Content-Type": "application/json"})
    assert bad_json.status == 400
    no_type = await wire.client.post("/api/messages", json={"text": "claim acme"})
    assert no_type.status == 400
    wrong_type = await wire.client.post("/api/messages", data="claim", headers={"Content-Type": "text/plain"})
    assert wrong_type.status == 415
    assert not wire.connector.sent()


async def test_install_and_uninstall_in_a_personal_chat(wire: TeamsWire, db: Database) -> None:
    install = wire._base("ann", tenant=TENANT, channel=False, kind="installationUpdate")
    install["action"] = "add"
    assert (await wire.post(install)).status == 200
    async with db.sessions() as session:
        assert (await session.execute(select(TeamsConversation.user_id))).scalar_one() == PEOPLE["ann"][0]

    uninstall = wire._base("ann", tenant=TENANT, channel=False, kind="installationUpdate")
    uninstall["action"] = "remove"
    assert (await wire.post(uninstall)).status == 200
    assert await count(db, TeamsConversation) == 0
    assert not wire.connector.sent()


async def test_activity_without_a_tenant_is_ignored(wire: TeamsWire, db: Database) -> None:
    activity = wire._base("ann", tenant=TENANT, channel=False)
    activity.update(text="customer add Acme", channelData={})
    del activity["conversation"]["tenantId"]
    assert (await wire.post(activity)).status == 200
    assert not wire.connector.sent()
    assert await count(db, Workspace) == 0 and await count(db, TeamsConversation) == 0


async def test_bot_framework_emulator_gets_a_workspace_of_its_own(wire: TeamsWire, db: Database) -> None:
    activity = wire._base("admin", tenant=TENANT, channel=False)
    activity.update(text="customer add Acme", channelId="emulator", channelData={})
    del activity["conversation"]["tenantId"]
    assert (await wire.post(activity)).status == 200
    assert "Added Acme" in wire.dm("admin")[-1]["text"]
    async with db.sessions() as session:
        assert (await session.execute(select(Workspace.external_id))).scalar_one() == "emulator"


async def test_decline_through_invokes_turns_the_card_into_a_prompt_then_the_answer(
    wire: TeamsWire, db: Database
) -> None:
    buttons = await offer_acme_to_sam(wire)
    asked = await (await wire.invoke("sam", buttons["Decline"])).json()
    assert asked["type"] == "application/vnd.microsoft.card.adaptive"
    field = next(item for item in asked["value"]["body"] if item["type"] == "Input.Text")
    assert field["isRequired"] is True
    send = actions_of(asked["value"])["Send"]

    again = await (await wire.invoke("sam", {**send, "input": "no"})).json()
    assert "at least 10 characters" in text_of(again["value"])  # the prompt again, with the error
    async with db.sessions() as session:
        assert (await session.execute(select(HandoffRequest.status))).scalar_one() == HandoffStatus.PENDING

    done = await (await wire.invoke("sam", {**send, "input": "I am on leave from Monday"})).json()
    assert "You declined Acme." in text_of(done["value"])
    async with db.sessions() as session:
        handoff = (await session.execute(select(HandoffRequest))).scalar_one()
    assert handoff.status == HandoffStatus.DECLINED and handoff.decline_reason == "I am on leave from Monday"
    assert await owner_of(db, "Acme") == PEOPLE["ann"][0]
