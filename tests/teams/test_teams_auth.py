"""With an app id, every activity's token is verified, against signing keys the fake Bot Connector publishes
(OpenID metadata + JWKS on 127.0.0.1). Without one, Teams runs only on loopback, and says so."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa

from bot import teams
from bot.settings import SettingsError, TeamsSettings, load_settings
from db.models import Member, TeamsConversation, TeamsMember, Workspace

from ..conftest import Clock, Database
from .conftest import TeamsWire, count, runtime_of, start_wire, teams_settings
from .fake_connector import FakeBotConnector

APP_ID = "00000000-aaaa-bbbb-cccc-0000000000a1"


@pytest.fixture
async def secured(sqlite_db: Database, clock: Clock, connector: FakeBotConnector) -> AsyncIterator[TeamsWire]:
    settings = teams_settings(
        microsoft_app_id=APP_ID,
        microsoft_app_password="not-a-real-secret",
        microsoft_app_tenant_id="tenant-a-0000",  # SingleTenant, the default
        teams_emulator=False,
        teams_openid_metadata_url=connector.metadata_url,
    )
    talk, client = await start_wire(sqlite_db, clock, connector, settings)
    yield talk
    await client.close()


async def nothing_written(db: Database) -> bool:
    return all([await count(db, model) == 0 for model in (TeamsConversation, TeamsMember, Member, Workspace)])


async def test_a_validly_signed_activity_is_processed(
    secured: TeamsWire, sqlite_db: Database, connector: FakeBotConnector
) -> None:
    secured.token = connector.token(audience=APP_ID, service_url=connector.url)
    response = await secured.members_added([secured.account("sam")])
    assert response.status == 200, await response.text()
    assert await count(sqlite_db, TeamsConversation) == 1
    assert await count(sqlite_db, TeamsMember) == 2  # the admin who added Sam, and Sam
    assert connector.key_fetches == ["/openid/.well-known/openid-configuration", "/openid/keys"]


@pytest.mark.parametrize(
    "case",
    [
        "missing",
        "not-bearer",
        "garbage",
        "other-key",
        "wrong-audience",
        "expired",
        "wrong-service-url",
        "wrong-issuer",
    ],
)
async def test_missing_or_invalid_tokens_are_refused_and_write_nothing(
    case: str,
    secured: TeamsWire,
    sqlite_db: Database,
    connector: FakeBotConnector,
) -> None:
    good = {"audience": APP_ID, "service_url": connector.url}
    headers = {
        "missing": {},
        "not-bearer": {"Authorization": "Basic " + connector.token(**good)},
        "garbage": {"Authorization": "Bearer not.a.token"},
        "other-key": {
            "Authorization": "Bearer "
            + connector.token(**good, key=rsa.generate_private_key(public_exponent=65537, key_size=2048))
        },
        "wrong-audience": {
            "Authorization": "Bearer " + connector.token(audience="someone-elses-bot", service_url=connector.url)
        },
        "expired": {"Authorization": "Bearer " + connector.token(**good, expires_in=-3600)},
        "wrong-service-url": {
            "Authorization": "Bearer " + connector.token(audience=APP_ID, service_url="https://evil.example/")
        },
        "wrong-issuer": {"Authorization": "Bearer " + connector.token(**good, issuer="https://evil.example")},
    }[case]
    activity = secured._base("ann", tenant="tenant-a-0000", channel=False)
    activity.update(text="customer add Acme", textFormat="plain")
    response = await secured.post(activity, headers=headers)
    assert response.status == 401
    assert await nothing_written(sqlite_db)
    assert not connector.sent()


def test_no_app_id_on_a_public_address_turns_teams_off_with_the_reason(sqlite_db: Database, clock: Clock) -> None:
    app = web.Application()
    status = teams.register(app, runtime_of(sqlite_db, clock), teams_settings(host="0.0.0.0"))
    assert not status.enabled
    assert "TEAMS_EMULATOR=true but HOST=0.0.0.0 is not a loopback address" in status.detail
    assert not [r for r in app.router.routes() if r.resource and r.resource.canonical == teams.ROUTE]


def test_emulator_mode_is_never_inferred_from_a_loopback_address(sqlite_db: Database, clock: Clock) -> None:
    """A reverse proxy on the same host makes every request loopback: no app id means off unless asked for."""
    app = web.Application()
    status = teams.register(app, runtime_of(sqlite_db, clock), teams_settings(host="127.0.0.1", teams_emulator=False))
    assert not status.enabled
    assert "MICROSOFT_APP_ID is not set" in status.detail and "TEAMS_EMULATOR=true" in status.detail
    assert not [r for r in app.router.routes() if r.resource and r.resource.canonical == teams.ROUTE]


def test_single_tenant_is_the_default_and_needs_the_tenant(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MICROSOFT_APP_ID", APP_ID)
    monkeypatch.setenv("MICROSOFT_APP_PASSWORD", "s3cret-value")
    with pytest.raises(SettingsError) as error:
        load_settings(TeamsSettings, _env_file=None)
    assert "MICROSOFT_APP_TENANT_ID" in str(error.value) and "SingleTenant" in str(error.value)
    monkeypatch.setenv("MICROSOFT_APP_TENANT_ID", "tenant-a-0000")
    settings = load_settings(TeamsSettings, _env_file=None)
    assert (settings.microsoft_app_type, settings.single_tenant) == ("SingleTenant", "tenant-a-0000")
    monkeypatch.setenv("MICROSOFT_APP_TYPE", "UserAssignedMSI")  # a managed identity: no password needed
    monkeypatch.delenv("MICROSOFT_APP_PASSWORD")
    assert load_settings(TeamsSettings, _env_file=None).single_tenant == "tenant-a-0000"


def test_emulator_mode_on_loopback_says_it_is_unauthenticated(sqlite_db: Database, clock: Clock) -> None:
    app = web.Application()
    status = teams.register(app, runtime_of(sqlite_db, clock), teams_settings(host="::1"))
    assert status.enabled and "NOT authenticated" in status.line()
    assert [r for r in app.router.routes() if r.resource and r.resource.canonical == teams.ROUTE]


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"MICROSOFT_APP_ID": "abc"}, "MICROSOFT_APP_PASSWORD"),
        (
            {"MICROSOFT_APP_ID": "abc", "MICROSOFT_APP_PASSWORD": "s3cret-value"},
            "MICROSOFT_APP_TENANT_ID",
        ),
        ({"MICROSOFT_APP_TYPE": "Galactic"}, "MICROSOFT_APP_TYPE"),
    ],
)
def test_bad_teams_settings_fail_with_one_line_naming_the_setting(
    env: dict[str, str],
    named: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as error:
        load_settings(TeamsSettings, _env_file=None)
    assert named in str(error.value) and "\n" not in str(error.value)
    assert "s3cret-value" not in str(error.value)  # the secret is never echoed


async def test_single_tenant_app_refuses_other_tenants(
    sqlite_db: Database, clock: Clock, connector: FakeBotConnector
) -> None:
    settings = teams_settings(
        microsoft_app_id=APP_ID,
        microsoft_app_password="not-a-real-secret",
        microsoft_app_type="SingleTenant",
        microsoft_app_tenant_id="tenant-a-0000",
        teams_openid_metadata_url=connector.metadata_url,
    )
    talk, client = await start_wire(
        sqlite_db, clock, connector, settings, token=connector.token(audience=APP_ID, service_url=connector.url)
    )
    try:
        response = await talk.members_added([talk.account("eve")], tenant="tenant-b-9999")
        assert response.status == 200
        assert await nothing_written(sqlite_db)
        response = await talk.members_added([talk.account("sam")], tenant="tenant-a-0000")
        assert response.status == 200 and await count(sqlite_db, TeamsMember) == 2
    finally:
        await client.close()


async def test_emulator_mode_refuses_requests_from_other_machines(sqlite_db: Database, clock: Clock) -> None:
    from unittest import mock

    from aiohttp.test_utils import make_mocked_request

    app = web.Application()
    teams.register(app, runtime_of(sqlite_db, clock), teams_settings())
    route = next(r for r in app.router.routes() if r.resource and r.resource.canonical == teams.ROUTE)
    transport = mock.Mock()
    transport.get_extra_info.side_effect = lambda name, default=None: (
        ("10.1.2.3", 50000) if name == "peername" else default
    )
    request = make_mocked_request(
        "POST", teams.ROUTE, headers={"Content-Type": "application/json"}, transport=transport, app=app
    )
    response = await route.handler(request)
    assert response.status == 403
    assert await nothing_written(sqlite_db)
