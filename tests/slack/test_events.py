"""Events API: URL verification, App Home, mentions and DMs, and replayed deliveries applied once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from db.models import Customer, Member, OwnershipEvent, SlackEvent, Ticket, TicketStatus

from ..conftest import Database
from .conftest import SlackDriver, buttons_of, owner_of, seeded, text_of


async def test_url_verification_answers_the_challenge(slack: SlackDriver) -> None:
    response = await slack.post(
        '{"token":"x","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}',
        "application/json",
    )
    assert response.status == 200
    assert "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" in await response.text()


def mention(user: str, text: str, ts: str = "1700000100.000100") -> dict:
    return {
        "type": "app_mention",
        "user": user,
        "text": f"<@UBOT> {text}",
        "ts": ts,
        "channel": "C1",
        "event_ts": ts,
        "team": "T1",
    }


async def test_replayed_events_never_apply_twice(slack: SlackDriver, db: Database) -> None:
    await seeded(slack, "Umbrella")
    await slack.command("U1", "/claim", "umbrella")
    slack.fake.reset()
    event = mention("U1", "handoff umbrella <@U2|sam> moving to the billing queue")
    first = await slack.event(event, "Ev0HANDOFF1")
    assert first.status == 200
    retried = await slack.event(event, "Ev0HANDOFF1", retry=1)  # Slack thought our ack was late
    duplicate = await slack.event(event, "Ev0HANDOFF1")  # the same delivery reaching another replica
    assert retried.status == 200 and duplicate.status == 200
    async with db.sessions() as session:
        kinds = [k.value for k in (await session.execute(select(OwnershipEvent.kind))).scalars()]
    assert kinds == ["claim", "handoff-requested"]
    answers = [c for c in slack.fake.called("chat.postMessage") if c["channel"] == "C1"]
    assert len(answers) == 1 and "Handoff of Umbrella to <@U2> requested." in text_of(answers[0])
    assert answers[0]["thread_ts"] == "1700000100.000100"  # answered in the mention's thread
    assert len(slack.fake.dms_to("U2")) == 1
    async with db.sessions() as session:  # one row for the event (slash commands have rows of their own)
        events = (await session.execute(select(SlackEvent.event_id).where(SlackEvent.event_id.like("Ev%")))).all()
    assert len(events) == 1

    other = await slack.event(mention("U2", "whoowns umbrella", ts="1700000200.000200"), "Ev0WHO")
    assert other.status == 200
    [private] = slack.fake.called("chat.postEphemeral")
    assert private["user"] == "U2" and "<@U1> owns Umbrella." in text_of(private)


async def test_direct_messages_are_commands_and_bot_messages_are_ignored(slack: SlackDriver, db: Database) -> None:
    await seeded(slack, "Hooli")
    dm = {
        "type": "message",
        "channel_type": "im",
        "channel": "DU3",
        "user": "U3",
        "text": "claim hooli",
        "ts": "1700000300.000300",
        "event_ts": "1700000300.000300",
    }
    await slack.event(dm, "Ev0DM1")
    [answer] = slack.fake.called("chat.postMessage")
    assert answer["channel"] == "DU3" and "<@U3> now owns Hooli." in text_of(answer)
    echo = {**dm, "user": "UBOT", "bot_id": "BBOT", "text": "<@U3> now owns Hooli.", "ts": "1700000301.000301"}
    await slack.event(echo, "Ev0DM2")
    assert len(slack.fake.called("chat.postMessage")) == 1 and await owner_of(db, "Hooli") == "U3"


async def test_app_home_shows_customers_stale_tickets_and_waiting_handoffs(slack: SlackDriver, db: Database) -> None:
    await seeded(slack, "Acme", "Globex")
    await slack.command("U1", "/claim", "acme")
    await slack.command("U2", "/claim", "globex")
    now = datetime.now(UTC)
    async with db.sessions() as session, session.begin():
        acme = (await session.execute(select(Customer).where(Customer.name == "Acme"))).scalar_one()
        uma = (await session.execute(select(Member).where(Member.platform_user_id == "U1"))).scalar_one()
        for subject, quiet in (("Login broken", timedelta(days=2)), ("Invoice question", timedelta(hours=1))):
            session.add(
                Ticket(
                    workspace_id=acme.workspace_id,
                    customer_id=acme.id,
                    subject=subject,
                    status=TicketStatus.OPEN,
                    owner_id=uma.id,
                    opened_at=now - quiet,
                    last_activity_at=now - quiet,
                )
            )
    await slack.command("U2", "/handoff", "globex <@U1|uma> she knows their billing setup")
    slack.fake.reset()

    opened = {"type": "app_home_opened", "user": "U1", "channel": "DU1", "tab": "home", "event_ts": "1700000400.1"}
    await slack.event(opened, "Ev0HOME1")
    await slack.event(opened, "Ev0HOME1", retry=2)
    [published] = slack.fake.called("views.publish")
    assert published["user_id"] == "U1" and published["view"]["type"] == "home"
    home = text_of(published["view"])
    assert "You own 1 customer(s) and 2 open ticket(s)." in home
    assert "Login broken [open, normal] · stale (no activity for 2 day(s))" in home
    assert "Invoice question [open, normal]" in home and "Invoice question [open, normal] · stale" not in home
    assert "Waiting for you: Globex" in home and "she knows their billing setup" in home
    buttons = buttons_of(published["view"])
    assert set(buttons) == {"Accept Globex", "Decline Globex"}

    action_id, value = buttons["Accept Globex"]
    slack.fake.reset()
    await slack.click("U1", action_id, value, home=True)
    assert await owner_of(db, "Globex") == "U1"
    [refreshed] = slack.fake.called("views.publish")
    assert "You own 2 customer(s)" in text_of(refreshed["view"]) and buttons_of(refreshed["view"]) == {}
    [told] = slack.fake.dms_to("U2")
    assert "<@U1> accepted Globex" in text_of(told)


async def test_profile_changes_keep_known_members_current_and_ignore_strangers(
    slack: SlackDriver, db: Database
) -> None:
    await slack.command("U1", "/mine")
    changed = {
        "type": "user_change",
        "event_ts": "1700000500.1",
        "user": {
            "id": "U1",
            "team_id": "T1",
            "name": "uma",
            "real_name": "Uma Real",
            "tz": "America/Chicago",
            "profile": {"display_name": "Uma B.", "real_name": "Uma Real"},
        },
    }
    await slack.event(changed, "Ev0USER1")
    stranger = {**changed, "user": {**changed["user"], "id": "U6"}}
    await slack.event(stranger, "Ev0USER2")
    async with db.sessions() as session:
        people = {
            m.platform_user_id: (m.display_name, m.time_zone) for m in (await session.execute(select(Member))).scalars()
        }
    assert people == {"U1": ("Uma B.", "America/Chicago")}
