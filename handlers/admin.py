"""customers, customer add|tier|rename, roles, role, team create|add|list."""

from __future__ import annotations

from db.models import Customer, Member, Role, Tier
from ownership import customers as customer_domain
from ownership import people
from ownership.errors import InvalidInput

from .grammar import Choice, CustomerRef, MemberRef, OneWord, Option, Text
from .pages import PAGE, page_of
from .parsing import parse_yes_no
from .registry import Context, command, command_with_verbs
from .replies import Reply, person

GROUP = "Customers and people"
TIERS = tuple(tier.value for tier in Tier)


def parse_role(word: str) -> Role:
    try:
        return Role(word.lower())
    except ValueError:
        raise InvalidInput(f'"{word[:40]}" is not a role. Use agent, lead or admin.') from None


@command("customers", PAGE, summary="Every customer, its tier and owner.", group=GROUP)
async def customers(ctx: Context, *, page: int | None) -> Reply:
    rows = await customer_domain.list_customers(ctx.session, workspace_id=ctx.workspace.id)
    if not rows:
        return Reply("No customers yet. A lead adds one with `customer add <name>`.")
    shown = page_of(rows, page)
    return Reply(
        f"{len(rows)} customer(s){shown.footer('customers')}",
        fields=[(c.name, f"{c.tier.value}, {owner or 'unowned'}") for c, owner in shown.items],
    )


CUSTOMER = command_with_verbs("customer", summary="Leads: add a customer, set its tier, rename it.", group=GROUP)
TIER = Choice("tier", TIERS, parse=customer_domain.parse_tier, noun="tier")


@CUSTOMER.verb(
    "add",
    Text("name", note='quote it when it ends in a tier word: `customer add "Basic Labs"`'),
    Choice("tier", TIERS, parse=customer_domain.parse_tier, required=False),
    Option("tier", TIER, shown=False, dest="tier_option"),  # the older spelling: `--tier premium`
    Option("external-id", example="ID"),
    summary="Add a customer; a tier word at the end is its tier (standard when none).",
)
async def customer_add(
    ctx: Context, *, name: str, tier: Tier | None, tier_option: Tier | None, external_id: str | None
) -> Reply:
    if tier and tier_option and tier != tier_option:
        raise InvalidInput(f"Give the tier once: {tier.value} or {tier_option.value}?")
    added = await customer_domain.add_customer(
        ctx.session,
        actor=ctx.actor,
        name=name,
        tier=tier or tier_option or Tier.STANDARD,
        external_id=external_id,
        now=ctx.now,
    )
    return Reply(f"Added {added.name} ({added.tier.value}). `claim {added.name}` to own it.")


@CUSTOMER.verb("tier", CustomerRef(), TIER, summary="Set a customer's tier.")
async def customer_tier(ctx: Context, *, customer: Customer, tier: Tier) -> Reply:
    await customer_domain.set_tier(ctx.session, actor=ctx.actor, customer=customer, tier=tier)
    return Reply(f"{customer.name} is now {tier.value}.")


@CUSTOMER.verb("rename", CustomerRef(), Text("new_name", label="new name"), summary="Rename a customer.")
async def customer_rename(ctx: Context, *, customer: Customer, new_name: str) -> Reply:
    old = customer.name
    await customer_domain.rename_customer(ctx.session, actor=ctx.actor, customer=customer, new_name=new_name)
    return Reply(f"Renamed {old} to {customer.name}.")


@command("roles", summary="Who is an agent, lead or admin.", group=GROUP)
async def roles(ctx: Context) -> Reply:
    members = await people.list_members(ctx.session, workspace_id=ctx.workspace.id)
    return Reply("People and roles", fields=[(person(m), m.role.value) for m in members])


@command(
    "role",
    MemberRef(),
    Choice("role", ("agent", "lead", "admin"), parse=parse_role),
    summary="Admins: set someone's role.",
    group=GROUP,
)
async def role(ctx: Context, *, member: Member, role: Role) -> Reply:
    await people.set_role(ctx.session, actor=ctx.actor, member=member, role=role, now=ctx.now)
    return Reply(f"{person(member)} is now {role.value}.")


TEAM = command_with_verbs("team", summary="Admins: create teams, add people, name the lead.", group=GROUP)


@TEAM.verb("create", Text("name"), Option("channel", example="ID"), summary="Create a team.")
async def team_create(ctx: Context, *, name: str, channel: str | None) -> Reply:
    created = await people.create_team(
        ctx.session, actor=ctx.actor, name=name, channel_id=channel or ctx.channel_id, now=ctx.now
    )
    return Reply(f"Created team {created.name}.")


@TEAM.verb(
    "add",
    OneWord("team", note='one word, or quoted: `team add "Tier 2" @sam`'),
    MemberRef(),
    Option("lead", Choice("lead", ("yes", "no"), parse=parse_yes_no)),
    summary="Put someone in a team; `--lead yes` makes them its lead.",
)
async def team_add(ctx: Context, *, team: str, member: Member, lead: bool | None) -> Reply:
    found = await people.find_team(ctx.session, workspace_id=ctx.workspace.id, name=team)
    await people.add_to_team(ctx.session, actor=ctx.actor, team=found, member=member, lead=bool(lead))
    return Reply(f"{person(member)} is in {found.name}{' as its lead' if lead else ''}.")


@TEAM.verb("list", summary="Every team and its people.")
async def team_list(ctx: Context) -> Reply:
    rows = await people.list_teams(ctx.session, workspace_id=ctx.workspace.id)
    if not rows:
        return Reply("No teams yet. An admin creates one with `team create <name>`.")
    return Reply(
        "Teams",
        fields=[
            (
                t.name,
                ", ".join(person(m) + (" (lead)" if m.id == t.lead_id else "") for m in members) or "nobody yet",
            )
            for t, members in rows
        ],
    )
