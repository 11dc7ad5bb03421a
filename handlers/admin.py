"""customers, customer add|tier|rename, roles, role, team create|add|list."""

from __future__ import annotations

from db.models import Role
from ownership import customers as customer_domain
from ownership import people
from ownership.errors import InvalidInput

from .claims import need
from .parsing import split_options
from .registry import Context, command
from .replies import Reply

GROUP = "Customers and people"
CUSTOMER_USAGE = (
    "customer add <name> [--tier premium|standard|basic] [--external-id ID] · "
    "customer tier <name> <tier> · customer rename <name> <new name>"
)


@command("customers", usage="customers", summary="Every customer, its tier and owner.", group=GROUP)
async def customers(ctx: Context, args: list[str]) -> Reply:
    rows = await customer_domain.list_customers(ctx.session, workspace_id=ctx.workspace.id)
    if not rows:
        return Reply("No customers yet. A lead adds one with `customer add <name>`.")
    return Reply(
        f"{len(rows)} customer(s)", fields=[(c.name, f"{c.tier.value}, {owner or 'unowned'}") for c, owner in rows]
    )


@command("customer", usage=CUSTOMER_USAGE, summary="Leads: add a customer, set its tier, rename it.", group=GROUP)
async def customer(ctx: Context, args: list[str]) -> Reply:
    need(args, 2, CUSTOMER_USAGE)
    verb, rest = args[0].lower(), args[1:]
    if verb == "add":
        positional, options = split_options(rest, {"tier": "premium, standard or basic", "external-id": "the CRM id"})
        need(positional, 1, "customer add <name> [--tier premium|standard|basic] [--external-id ID]")
        tier = customer_domain.parse_tier(options.get("tier", "standard"))
        added = await customer_domain.add_customer(
            ctx.session,
            actor=ctx.actor,
            name=" ".join(positional),
            tier=tier,
            external_id=options.get("external-id"),
            now=ctx.now,
        )
        return Reply(f"Added {added.name} ({added.tier.value}). `claim {added.name}` to own it.")
    if verb == "tier":
        need(rest, 2, "customer tier <name> <premium|standard|basic>")
        tier = customer_domain.parse_tier(rest[-1])
        found = await customer_domain.find_customer(ctx.session, workspace_id=ctx.workspace.id, ref=" ".join(rest[:-1]))
        await customer_domain.set_tier(ctx.session, actor=ctx.actor, customer=found, tier=tier)
        return Reply(f"{found.name} is now {tier.value}.")
    if verb == "rename":
        need(rest, 2, 'customer rename <name> <new name>  (quote names with spaces: "Acme Corp")')
        found = await customer_domain.find_customer(ctx.session, workspace_id=ctx.workspace.id, ref=rest[0])
        old = found.name
        await customer_domain.rename_customer(ctx.session, actor=ctx.actor, customer=found, new_name=" ".join(rest[1:]))
        return Reply(f"Renamed {old} to {found.name}.")
    raise InvalidInput(f"Usage: `{CUSTOMER_USAGE}`")


@command("roles", usage="roles", summary="Who is an agent, lead or admin.", group=GROUP)
async def roles(ctx: Context, args: list[str]) -> Reply:
    members = await people.list_members(ctx.session, workspace_id=ctx.workspace.id)
    return Reply("People and roles", fields=[(m.display_name, m.role.value) for m in members])


@command("role", usage="role <@member> <agent|lead|admin>", summary="Admins: set someone's role.", group=GROUP)
async def role(ctx: Context, args: list[str]) -> Reply:
    need(args, 2, "role <@member> <agent|lead|admin>")
    try:
        new_role = Role(args[1].lower())
    except ValueError:
        raise InvalidInput(f'"{args[1]}" is not a role. Use agent, lead or admin.') from None
    member = await people.find_member(ctx.session, workspace_id=ctx.workspace.id, ref=args[0])
    await people.set_role(ctx.session, actor=ctx.actor, member=member, role=new_role, now=ctx.now)
    return Reply(f"{member.display_name} is now {new_role.value}.")


TEAM_USAGE = "team create <name> [--channel ID] · team add <team> <@member> [--lead yes] · team list"


@command("team", usage=TEAM_USAGE, summary="Admins: create teams, add people, name the lead.", group=GROUP)
async def team(ctx: Context, args: list[str]) -> Reply:
    need(args, 1, TEAM_USAGE)
    verb, rest = args[0].lower(), args[1:]
    if verb == "list":
        rows = await people.list_teams(ctx.session, workspace_id=ctx.workspace.id)
        if not rows:
            return Reply("No teams yet. An admin creates one with `team create <name>`.")
        return Reply(
            "Teams",
            fields=[
                (
                    t.name,
                    ", ".join(m.display_name + (" (lead)" if m.id == t.lead_id else "") for m in members)
                    or "nobody yet",
                )
                for t, members in rows
            ],
        )
    if verb == "create":
        positional, options = split_options(rest, {"channel": "the channel the team works in"})
        need(positional, 1, "team create <name> [--channel ID]")
        created = await people.create_team(
            ctx.session,
            actor=ctx.actor,
            name=" ".join(positional),
            channel_id=options.get("channel", ctx.channel_id),
            now=ctx.now,
        )
        return Reply(f"Created team {created.name}.")
    if verb == "add":
        positional, options = split_options(rest, {"lead": "yes to make them the team lead"})
        need(positional, 2, "team add <team> <@member> [--lead yes]")
        found = await people.find_team(ctx.session, workspace_id=ctx.workspace.id, name=positional[0])
        member = await people.find_member(ctx.session, workspace_id=ctx.workspace.id, ref=positional[1])
        lead = options.get("lead", "no").lower() in ("yes", "true", "1")
        await people.add_to_team(ctx.session, actor=ctx.actor, team=found, member=member, lead=lead)
        return Reply(f"{member.display_name} is in {found.name}{' as its lead' if lead else ''}.")
    raise InvalidInput(f"Usage: `{TEAM_USAGE}`")
