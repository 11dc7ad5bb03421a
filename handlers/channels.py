"""Customer channels in chat: `customer channel|unlink|channels`, `link` / `unlink` typed in the channel itself
(Teams: `@ownerbot link <customer>`), and the buttons on a new request's DM: Take it, Hand off, Not a request.
What a channel's messages do is in `channel_intake`; the rules are in `ownership.requests`."""

from __future__ import annotations

import re
from dataclasses import dataclass

from db.models import Customer, Member, Ticket, TicketEventKind
from ownership import customer_channels as channel_domain
from ownership import requests as request_domain
from ownership import tickets as ticket_domain
from ownership.errors import InvalidInput, NotFound, quote
from ownership.numbers import parse_id
from ownership.timeline import timeline_event

from .admin import CUSTOMER
from .grammar import CustomerRef, Flag, OneWord, Option
from .registry import Context, action, command
from .replies import ActionId, ActionInvocation, Prompt, Reply

GROUP = "Customers"
SLACK_CHANNEL = re.compile(r"^<#([A-Z0-9]+)(?:\|[^>]*)?>$")
CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]+$")
TEAMS_CHANNEL = re.compile(r"^19:[^\s]+@thread\.[a-z0-9]+$")


class RequestAction:
    """Buttons on a new request's DM; every value is the ticket id."""

    TAKE = "ownerbot.request.take"
    HANDOFF = "ownerbot.request.handoff"  # answers with the hand-off prompt of nudges (submit: NUDGE_HANDOFF_SUBMIT)
    DISMISS = "ownerbot.request.dismiss"


@dataclass(frozen=True)
class ChannelRef(OneWord):
    """A channel: a Slack channel mention (`<#C123|support-acme>`), a channel id, or nothing (this channel)."""

    name: str = "channel"
    label: str = "#channel"
    required: bool = False
    note: str = "mention the channel (#name); leave it out to mean the channel you type in"

    def read(self, text: str) -> object:
        mention = SLACK_CHANNEL.match(text)
        if mention:
            return mention.group(1)
        if CHANNEL_ID.match(text) or TEAMS_CHANNEL.match(text):
            return text
        raise InvalidInput(
            f'"{text[:40]}" is not a channel I can read. Mention it (type `#` and pick it), or run this in the channel.'
        )


def _here(ctx: Context, channel: str | None) -> str:
    found = channel or ctx.channel_id
    if not found or not (CHANNEL_ID.match(found) or TEAMS_CHANNEL.match(found)):
        raise InvalidInput("Which channel? Mention it (`#channel`), or run this in the channel itself.")
    return found


def _shown(channel_id: str) -> str:
    return f"<#{channel_id}>" if CHANNEL_ID.match(channel_id) else "this channel"


async def _link(ctx: Context, customer: Customer, channel: str | None, quiet: bool, resolve_with: str | None) -> Reply:
    channel_id = _here(ctx, channel)
    emoji = channel_domain.parse_emoji(resolve_with) if resolve_with else None
    linked = await channel_domain.link_channel(
        ctx.session,
        actor=ctx.actor,
        customer=customer,
        channel_id=channel_id,
        platform=ctx.platform,
        now=ctx.now,
        announce=False if quiet else None,
        resolve_emoji=emoji,
    )
    link = linked.link
    if not linked.changed:
        return Reply(f"{_shown(channel_id)} is already {customer.name}'s channel.")
    said = "I name the owner in each request's thread" if link.announce else "I don't post in the channel"
    return Reply(
        f"{_shown(channel_id)} is now {customer.name}'s channel: each new message from the customer there becomes a "
        f"ticket for {customer.name}'s owner; {said}; :{link.resolve_emoji}: on it resolves it. "
        "Invite me to the channel if I'm not in it yet.",
    )


@CUSTOMER.verb(
    "channel",
    CustomerRef(),
    ChannelRef(),
    Flag("quiet", note="don't name the owner in the request's thread"),
    Option("resolve-with", example=":white_check_mark:", note="the reaction that resolves a request"),
    summary="Link a channel (a Slack Connect or Teams channel) to a customer: its messages become tickets.",
)
async def customer_channel(
    ctx: Context, *, customer: Customer, channel: str | None, quiet: bool, resolve_with: str | None
) -> Reply:
    return await _link(ctx, customer, channel, quiet, resolve_with)


@CUSTOMER.verb("unlink", ChannelRef(), summary="Stop reading a customer channel; its tickets and history stay.")
async def customer_unlink(ctx: Context, *, channel: str | None) -> Reply:
    channel_id = _here(ctx, channel)
    customer = await channel_domain.unlink_channel(
        ctx.session, actor=ctx.actor, workspace_id=ctx.workspace.id, channel_id=channel_id, now=ctx.now
    )
    return Reply(f"{_shown(channel_id)} is no longer {customer.name}'s channel; its tickets and history stay.")


@CUSTOMER.verb("channels", summary="The channels linked to customers.")
async def customer_channels(ctx: Context) -> Reply:
    rows = await channel_domain.linked_channels(ctx.session, workspace_id=ctx.workspace.id)
    if not rows:
        return Reply("No customer channels yet. A lead links one with `customer channel <customer> #channel`.")
    return Reply(
        f"{len(rows)} customer channel(s)",
        fields=[(name, f"{_shown(link.channel_id)}, resolves with :{link.resolve_emoji}:") for link, name in rows],
    )


@command(
    "link",
    CustomerRef(),
    Flag("quiet", note="don't name the owner in the request's thread"),
    summary="In a customer's channel (Teams: `@ownerbot link <customer>`): link it to that customer.",
    group=GROUP,
)
async def link_here(ctx: Context, *, customer: Customer, quiet: bool) -> Reply:
    return await _link(ctx, customer, None, quiet, None)


@command("unlink", summary="In a customer's channel: stop reading it (its tickets stay).", group=GROUP)
async def unlink_here(ctx: Context) -> Reply:
    return await customer_unlink(ctx, channel=None)


# -- the buttons on a new request's DM ---------------------------------------------------------------------------


async def _request(ctx: Context, value: str) -> Ticket:
    stale = "That button is out of date; `tickets` lists the open ones."
    return await ticket_domain.get_ticket(
        ctx.session,
        workspace_id=ctx.workspace.id,
        ticket_id=parse_id(value, invalid=stale, missing=stale),
        for_update=True,
    )


@action(RequestAction.TAKE)
async def take_request(ctx: Context, act: ActionInvocation) -> Reply:
    ticket = await _request(ctx, act.value)
    if ticket.owner_id == ctx.actor.id:
        return Reply(f"#{ticket.id} is yours: answer the customer in the request's thread.", replace_original=True)
    previous = await ctx.session.get(Member, ticket.owner_id) if ticket.owner_id else None
    ticket.owner_id = ctx.actor.id
    ctx.session.add(
        timeline_event(
            ticket,
            TicketEventKind.UPDATED,
            actor=ctx.actor,
            platform=ctx.platform,
            now=ctx.now,
            text=f"taken by {ctx.actor.display_name}" + (f" from {previous.display_name}" if previous else ""),
        )
    )
    await ctx.session.flush()
    return Reply(f"#{ticket.id} is yours now: answer the customer in the request's thread.", replace_original=True)


@action(RequestAction.HANDOFF)
async def handoff_request(ctx: Context, act: ActionInvocation) -> Reply:
    ticket = await _request(ctx, act.value)
    customer = await ctx.session.get(Customer, ticket.customer_id)
    if customer is None:
        raise NotFound("That customer no longer exists.")
    return Reply(
        f"Who should take {customer.name}, and why? Or type `handoff {quote(customer.name)} @person <reason>`.",
        prompt=Prompt(
            title="Hand off",
            label=f"@person and the reason they should take {customer.name}",
            submit_action_id=ActionId.NUDGE_HANDOFF_SUBMIT,
            value=str(customer.id),
            min_length=3,
            max_length=2000,
            placeholder="@sam speaks German with their CTO",
            noun="person and reason",
        ),
    )


@action(RequestAction.DISMISS)
async def dismiss_request(ctx: Context, act: ActionInvocation) -> Reply:
    ticket = await _request(ctx, act.value)
    await request_domain.dismiss_request(
        ctx.session, ticket=ticket, actor=ctx.actor, platform=ctx.platform, now=ctx.now
    )
    return Reply(f"#{ticket.id} is not a request: closed, and left out of the numbers.", replace_original=True)
