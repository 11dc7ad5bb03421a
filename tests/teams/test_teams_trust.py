"""What ownerbot trusts on Teams: only Bot Connector hosts it knows (Microsoft's, or the configured test host) are
stored or called, and the signing keys are fetched off the event loop with a timeout."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select, update

from bot.settings import TeamsSettings
from db.models import Customer, Member, TeamsConversation, TeamsMember, Workspace
from handlers import Reply
from handlers.ports import DeliveryFailed

from ..conftest import Clock, Database
from .conftest import PEOPLE, TENANT, TeamsWire, count, start_wire, teams_settings
from .fake_connector import FakeBotConnector

APP_ID = "00000000-aaaa-bbbb-cccc-0000000000a1"


async def nothing_written(db: Database) -> bool:
    return all([await count(db, model) == 0 for model in (TeamsConversation, TeamsMember, Member, Workspace)])


@pytest.mark.parametrize(
    "service_url",
    ["https://evil.example/", "https://smba.trafficmanager.net.evil.example/", "http://smba.trafficmanager.net/emea/"],
)
async def test_an_activity_from_an_unknown_bot_connector_is_refused_and_nothing_is_stored(
    service_url: str, wire: TeamsWire, db: Database
) -> None:
    activity = wire._base("ann", tenant=TENANT, channel=False)
    activity.update(text="customer add Acme", textFormat="plain", serviceUrl=service_url)
    response = await wire.post(activity)
    assert response.status == 403
    assert await nothing_written(db)
    assert not wire.connector.requests  # and nothing was sent anywhere


def test_microsofts_hosts_and_the_configured_one_are_trusted() -> None:
    settings = TeamsSettings(_env_file=None, teams_service_hosts="127.0.0.1, Bots.Contoso.Example")
    trusted = [
        "https://smba.trafficmanager.net/emea/",
        "https://smba.trafficmanager.net/amer/",
        "https://smba.infra.gcc.teams.microsoft.com/",
        "https://europe.webchat.botframework.com/",
        "http://127.0.0.1:3978/",
        "https://bots.contoso.example/teams/",
    ]
    refused = [
        "",
        "not a url",
        "http://smba.trafficmanager.net/emea/",  # Microsoft's hosts only over https
        "https://smba.trafficmanager.net.evil.example/",
        "https://botframework.com.evil.example/",
        "https://evilbotframework.com/",
        "https://user:pw@smba.trafficmanager.net/",
        "https://10.0.0.1/",
    ]
    assert [url for url in trusted if not settings.trusts_service_url(url)] == []
    assert [url for url in refused if settings.trusts_service_url(url)] == []
    assert not TeamsSettings(_env_file=None).trusts_service_url("http://127.0.0.1:3978/")  # only when configured


async def test_a_stored_conversation_at_an_untrusted_host_is_never_called(wire: TeamsWire, db: Database) -> None:
    await wire.say("ann", "mine")
    async with db.sessions() as session, session.begin():
        row = (await session.execute(select(TeamsConversation))).scalar_one()
        reference = json.loads(row.reference)
        reference["serviceUrl"] = "https://evil.example/"
        await session.execute(update(TeamsConversation).values(reference=json.dumps(reference)))
    before = len(wire.connector.requests)
    with pytest.raises(DeliveryFailed) as failed:
        await wire.notifier.send_direct(workspace=TENANT, user_id=PEOPLE["ann"][0], reply=Reply("A nudge"))
    assert failed.value.permanent and "not Microsoft's" in str(failed.value)
    assert len(wire.connector.requests) == before


@pytest.fixture
async def slow_keys(sqlite_db: Database, clock: Clock, connector: FakeBotConnector) -> AsyncIterator[TeamsWire]:
    settings = teams_settings(
        microsoft_app_id=APP_ID,
        microsoft_app_password="not-a-real-secret",
        microsoft_app_tenant_id=TENANT,
        teams_emulator=False,
        teams_openid_metadata_url=connector.metadata_url,
        teams_key_fetch_timeout_seconds=0.6,
    )
    talk, client = await start_wire(
        sqlite_db, clock, connector, settings, token=connector.token(audience=APP_ID, service_url=connector.url)
    )
    yield talk
    await client.close()


async def ticks_while(work: asyncio.Future[object] | asyncio.Task[object]) -> int:
    """How often a 20 ms heartbeat ran while `work` was under way (a blocked event loop stops it)."""
    beats = 0
    while not work.done():
        await asyncio.sleep(0.02)
        beats += 1
    return beats


async def test_a_slow_key_fetch_does_not_block_the_event_loop(
    slow_keys: TeamsWire, sqlite_db: Database, connector: FakeBotConnector
) -> None:
    connector.key_delay = 0.4  # per request: metadata, then keys
    work = asyncio.ensure_future(slow_keys.members_added([slow_keys.account("sam")]))
    beats = await ticks_while(work)
    assert (await work).status == 200
    assert beats >= 10, beats  # the loop kept serving while the keys were fetched in a worker thread
    assert await count(sqlite_db, TeamsMember) >= 1


async def test_a_key_fetch_that_times_out_is_a_503_soon_and_writes_nothing(
    slow_keys: TeamsWire, sqlite_db: Database, connector: FakeBotConnector
) -> None:
    connector.key_delay = 5.0
    started = time.perf_counter()
    response = await slow_keys.members_added([slow_keys.account("sam")])
    assert response.status == 503  # the Bot Connector tries again later
    assert time.perf_counter() - started < 3.0
    assert await nothing_written(sqlite_db)


async def test_a_saved_change_whose_answer_teams_refused_is_not_called_unchanged(wire: TeamsWire, db: Database) -> None:
    await wire.say("admin", "customer add Acme")
    await wire.say("ann", "mine")
    wire.connector.fail(500, times=4, path_contains="a:personal-ann")  # every attempt at the answer fails

    await wire.say("ann", "claim acme")

    told = wire.dm("ann")[-1]["text"]
    assert "nothing was changed" not in told
    assert "is saved" in told and "don't repeat it" in told
    async with db.sessions() as session:
        owner = await session.scalar(select(Member.display_name).join(Customer, Customer.owner_id == Member.id))
    assert owner == "Ann Agent"


async def test_a_refused_command_whose_answer_failed_still_says_nothing_changed(wire: TeamsWire, db: Database) -> None:
    await wire.say("ann", "mine")
    wire.connector.fail(500, times=4, path_contains="a:personal-ann")

    await wire.say("ann", "claim globex")  # no such customer: refused, nothing written

    assert wire.dm("ann")[-1]["text"].startswith("Something went wrong on our side and nothing was changed")
    assert await count(db, Customer) == 0
