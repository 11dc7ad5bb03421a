"""The team's roster through the fake Bot Connector: a teammate who never wrote to ownerbot can be @mentioned and
handed a customer on day one, and a team install reads the whole team page by page. SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import select

from db.models import HandoffRequest, HandoffStatus, Member, TeamsMember

from ..conftest import Database
from .conftest import CHANNEL, PEOPLE, TEAM, TeamsWire, card_of, count, text_of


async def members(db: Database) -> dict[str, str]:
    async with db.sessions() as session:
        return {m.platform_user_id: m.display_name for m in (await session.execute(select(Member))).scalars()}


async def test_a_mentioned_teammate_who_never_wrote_is_found_in_the_roster_and_can_take_a_handoff(
    wire: TeamsWire, db: Database
) -> None:
    await wire.say("admin", "customer add Acme")
    await wire.say("ann", "claim acme", channel=True)
    assert PEOPLE["kim"][0] not in await members(db)  # Kim never wrote to ownerbot: Teams never told it about her

    await wire.say("ann", "handoff acme @kim she speaks Korean with their CTO 🇰🇷", channel=True, mentions=["kim"])

    lookups = wire.connector.sent("GET", "/members/")
    assert [r.path.rsplit("/", 1)[-1] for r in lookups] == [PEOPLE["kim"][1]]
    assert lookups[0].path.startswith(f"/v3/conversations/{TEAM}/members/")  # asked of the team, not the channel
    assert "Handoff of Acme to <at>Kim Park</at> requested" in text_of(wire.to(CHANNEL)[-1])
    async with db.sessions() as session:
        handoff = (await session.execute(select(HandoffRequest))).scalar_one()
        kim = await session.get(Member, handoff.to_member_id)
        kim_on_teams = (
            await session.execute(select(TeamsMember).where(TeamsMember.user_id == PEOPLE["kim"][0]))
        ).scalar_one()
    assert (kim.platform_user_id, kim.display_name) == (PEOPLE["kim"][0], "Kim Park")
    assert handoff.status == HandoffStatus.PENDING and handoff.reason.endswith("CTO 🇰🇷")
    assert kim_on_teams.bot_user_id == PEOPLE["kim"][1]

    # The offer reaches Kim: ownerbot opens a 1:1 chat with her (it learnt her Bot Framework id from the roster).
    created = [r for r in wire.connector.sent("POST", "/v3/conversations") if r.path.rstrip("/") == "/v3/conversations"]
    assert created and created[-1].body["members"] == [{"id": PEOPLE["kim"][1]}]
    offers = [r.body for r in wire.connector.sent("POST", "/v3/conversations/a:created-")]
    assert "wants to hand Acme over to you" in text_of(card_of(offers[-1]))

    # A second mention of Kim needs no lookup: she is known now.
    await wire.say("ann", "handoff acme @kim once more, she asked for it", channel=True, mentions=["kim"])
    assert len(wire.connector.sent("GET", "/members/")) == 1


async def test_someone_not_on_the_roster_is_a_friendly_error_and_changes_nothing(wire: TeamsWire, db: Database) -> None:
    await wire.say("admin", "customer add Acme")
    await wire.say("ann", "claim acme", channel=True)
    wire.connector.roster.pop(PEOPLE["kim"][1])  # Kim left the team

    await wire.say("ann", "handoff acme @kim she speaks Korean with their CTO", channel=True, mentions=["kim"])

    assert "I don't know anyone called" in text_of(wire.to(CHANNEL)[-1])
    assert "Kim Park" in text_of(wire.to(CHANNEL)[-1]).replace("\u00a0", " ")
    assert wire.connector.sent("GET", "/members/", ok_only=False)[-1].status == 404
    assert await count(db, HandoffRequest) == 0
    assert PEOPLE["kim"][0] not in await members(db)


async def test_adding_ownerbot_to_a_team_reads_the_whole_team_page_by_page(wire: TeamsWire, db: Database) -> None:
    response = await wire.members_added([{"id": "28:ownerbot-app-id"}], by="lee")
    assert response.status == 200

    pages = wire.connector.sent("GET", "/pagedmembers")
    assert {r.path for r in pages} == {f"/v3/conversations/{TEAM}/pagedmembers"}
    assert len(pages) == 3  # five people, two per page
    everyone = {PEOPLE[who][0]: PEOPLE[who][2] for who in PEOPLE if who != "eve"}
    assert await members(db) == everyone
    async with db.sessions() as session:
        known = {m.user_id: m.bot_user_id for m in (await session.execute(select(TeamsMember))).scalars()}
    assert known == {PEOPLE[who][0]: PEOPLE[who][1] for who in PEOPLE if who != "eve"}

    # Lee (the lead) can now hand a customer to Kim by name, though Kim never wrote a word.
    await wire.say("admin", "customer add Acme")
    await wire.say("lee", "claim acme")
    await wire.say("lee", 'handoff acme "Kim Park" she ran their onboarding last year')
    assert "Handoff of Acme to <at>Kim Park</at> requested" in text_of(wire.dm("lee")[-1])
    assert not wire.connector.sent("GET", "/members/")  # no per-person lookups needed


async def test_a_roster_the_connector_refuses_leaves_the_install_working(wire: TeamsWire, db: Database) -> None:
    wire.connector.fail(403, times=1, path_contains="/pagedmembers")
    response = await wire.members_added([{"id": "28:ownerbot-app-id"}], by="lee")
    assert response.status == 200
    assert set(await members(db)) <= {PEOPLE["lee"][0]}  # only who was announced; nothing half-read
    await wire.say("lee", "mine", channel=True)
    assert wire.to(CHANNEL)  # and ownerbot answers in the channel as usual
