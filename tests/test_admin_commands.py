"""Customers, roles, teams and workspace isolation through the command layer."""

from __future__ import annotations

from sqlalchemy import select

from db.models import Customer, Member, Role, Team, Tier

from .conftest import Chat, Database


async def test_customer_add_rename_tier_and_case_insensitive_names(chat: Chat, db: Database) -> None:
    assert not (await chat.say("U_LEAD", "customer add Acme --tier basic")).error
    dup = await chat.say("U_LEAD", "customer add ACME")
    assert dup.error and "already exists" in dup.text
    assert (await chat.say("U_LEAD", "customer tier acme premium")).text == "Acme is now premium."
    renamed = await chat.say("U_LEAD", 'customer rename acme "Acme Corp"')
    assert renamed.text == "Renamed Acme to Acme Corp."
    listing = await chat.say("U1", "customers")
    assert listing.fields == [("Acme Corp", "premium, unowned")]
    async with db.sessions() as session:
        customer = (await session.execute(select(Customer))).scalar_one()
    assert (customer.name, customer.name_key, customer.tier) == ("Acme Corp", "acme corp", Tier.PREMIUM)


async def test_roles_and_teams_are_set_by_admins(chat: Chat, db: Database) -> None:
    refused = await chat.say("U_LEAD", "team create Tier2")
    assert refused.error and "Only admins" in refused.text
    assert not (await chat.say("U_ADMIN", 'team create "Tier 2" --channel C42')).error
    added = await chat.say("U_ADMIN", 'team add "tier 2" U2 --lead yes')
    assert added.text == "<@U2> is in Tier 2 as its lead."
    await chat.say("U_ADMIN", 'team add "tier 2" U3')
    teams = await chat.say("U1", "team list")
    assert teams.fields == [("Tier 2", "<@U2> (lead), <@U3>")]
    last_admin = await chat.say("U_ADMIN", "role U_ADMIN agent")
    assert last_admin.error and "last admin" in last_admin.text
    bad_role = await chat.say("U_ADMIN", "role U1 boss")
    assert bad_role.error and "not a role" in bad_role.text
    async with db.sessions() as session:
        team = (await session.execute(select(Team))).scalar_one()
        u2 = (await session.execute(select(Member).where(Member.platform_user_id == "U2"))).scalar_one()
    assert (team.channel_id, team.lead_id, u2.role) == ("C42", u2.id, Role.LEAD)


async def test_workspaces_see_only_their_own_customers(chat: Chat, handlers) -> None:  # type: ignore[no-untyped-def]
    await chat.say("U_LEAD", "customer add Acme")
    await chat.say("U1", "claim acme")
    other = Chat(handlers, workspace="T2")
    reply = await other.say("U1", "whoowns acme")  # same user id, another workspace
    assert reply.error and "don't know a customer" in reply.text
    assert (await other.say("U9", "claim acme")).error


async def test_help_lists_every_command_and_unknown_commands_suggest(chat: Chat) -> None:
    help_reply = await chat.say("U1", "help")
    usages = " ".join(label for label, _ in help_reply.fields)
    for name in ("claim", "handoff", "accept", "decline", "release", "whoowns", "mine", "customer", "role", "team"):
        assert f"`{name}" in usages
    typo = await chat.say("U1", "clam acme")
    assert typo.error and "Did you mean `claim`" in typo.text
