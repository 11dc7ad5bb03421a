"""Customer channels on Teams, over /api/messages with the fake Bot Connector: a guest's channel message opens
a ticket for the customer's owner; a team member's thread reply is the first response; 👍 resolves; an unlinked
channel stores nothing; the guest never runs a command (issue 14)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from db.models import ChannelMessage, Member, TeamsMember, Ticket, TicketEvent, TicketEventKind, TicketStatus

from ..conftest import Database
from .conftest import CHANNEL, TENANT, TeamsWire, count, text_of

GUEST = {"id": "29:guest-bf", "name": "Gus Guest (Acme)", "aadObjectId": "aad-guest-0099"}


def channel_post(wire: TeamsWire, who: dict[str, str] | str, text: str, *, root: str | None = None) -> dict[str, Any]:
    """A message in the channel that does not address ownerbot (Teams sends these under RSC)."""
    activity = wire._base("ann", tenant=TENANT, channel=True)
    activity["from"] = wire.account(who) if isinstance(who, str) else who
    if root is not None:
        activity["conversation"]["id"] = f"{CHANNEL};messageid={root}"
        activity["replyToId"] = root
    activity.update(text=text, textFormat="plain", entities=[])
    return activity


async def tickets(db: Database) -> list[Ticket]:
    async with db.sessions() as session:
        return list((await session.execute(select(Ticket).order_by(Ticket.id))).scalars())


async def test_a_guest_message_opens_a_ticket_and_the_team_answers_and_resolves(wire: TeamsWire, db: Database) -> None:
    await wire.say("admin", 'customer add "Acme Corp" premium')
    await wire.say("ann", "claim acme corp")
    await wire.say("admin", "link Acme Corp", channel=True)
    assert "is now Acme Corp's channel" in text_of(wire.to(CHANNEL)[-1])

    post = channel_post(wire, GUEST, "Our dashboard is down again, this is really frustrating")
    assert (await wire.post(post)).status == 200
    [ticket] = await tickets(db)
    async with db.sessions() as session:
        owner = await session.get(Member, ticket.owner_id)
    assert owner is not None and owner.platform_user_id == "aad-ann-0002"
    assert ticket.mood.value == "unhappy" and ticket.status == TicketStatus.OPEN
    named = wire.to(f"{CHANNEL};messageid={post['id']}")
    assert named and "Ann Agent" in text_of(named[-1])
    dm = wire.dm("ann")[-1]
    assert "Our dashboard is down again" in text_of(dm) and "premium" in text_of(dm)

    await wire.post(channel_post(wire, "ann", "On it, checking the status page now", root=post["id"]))
    [ticket] = await tickets(db)
    assert ticket.first_response_at is not None

    reaction = channel_post(wire, "ann", "", root=post["id"])
    reaction.update(type="messageReaction", reactionsAdded=[{"type": "like"}], replyToId=post["id"])
    await wire.post(reaction)
    [ticket] = await tickets(db)
    assert ticket.status == TicketStatus.RESOLVED
    async with db.sessions() as session:
        kinds = list((await session.execute(select(TicketEvent.kind))).scalars())
    assert TicketEventKind.NOTE in kinds and TicketEventKind.CUSTOMER_MESSAGE in kinds


async def test_the_guest_never_runs_a_command_and_other_channels_are_not_read(wire: TeamsWire, db: Database) -> None:
    await wire.say("admin", 'customer add "Acme Corp"')
    await wire.say("admin", "link Acme Corp", channel=True)
    members_before = await count(db, Member)
    addressed = channel_post(wire, GUEST, "<at>ownerbot</at> claim acme corp")
    addressed["entities"] = [
        {"type": "mention", "text": "<at>ownerbot</at>", "mentioned": {"id": "28:ownerbot-app-id", "name": "ownerbot"}}
    ]
    await wire.post(addressed)
    async with db.sessions() as session:
        assert await session.scalar(select(Member).where(Member.platform_user_id == "aad-guest-0099")) is None
    assert await count(db, Member) == members_before
    [ticket] = await tickets(db)  # the guest's words became a request, not a claim
    assert ticket.owner_id is None

    await wire.say("admin", "unlink", channel=True)
    teams_members = await count(db, TeamsMember)
    await wire.post(channel_post(wire, GUEST, "Hello? Anyone?"))
    assert len(await tickets(db)) == 1 and await count(db, ChannelMessage) == 1
    assert await count(db, TeamsMember) == teams_members  # not even the sender is stored
