"""A burst of customer-channel events over the real /slack/events, arriving together (group commit, issue 14):
each message from several linked channels is applied exactly once, Slack's retries and the same message under
another delivery id change nothing, and an unlinked channel in the same burst stores nothing."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from db.models import ChannelMessage, Member, SlackEvent, Ticket, TicketEvent, TicketEventKind

from ..conftest import Database
from .conftest import SlackDriver, seeded, text_of
from .test_customer_channels import SHARED, customer_message

GLOBEX = "C0GLOBEX"
WORDS = ("Still broken, third time I ask.", "Danke, der Export klappt wieder 🎉", "Экспорт не работает", "help pls")


async def two_linked(slack: SlackDriver) -> None:
    """Acme Corp (Uma, U1) and Globex (Gus, U2), each with its shared channel linked by the lead."""
    await seeded(slack, "Acme Corp", "Globex Intl")
    await slack.command("U1", "/claim", "acme corp")
    await slack.command("U2", "/claim", "globex intl")
    for name, channel in (("Acme Corp", SHARED), ("Globex Intl", GLOBEX)):
        _, key = await slack.command("U_LEAD", "/ownerbot", f"customer channel {name} <#{channel}|shared-{channel}>")
        assert f"is now {name}'s channel" in text_of(slack.fake.posts_to(key)[0]), slack.fake.posts_to(key)
    slack.fake.reset()


async def test_a_burst_from_several_channels_is_applied_once_each(slack: SlackDriver, db: Database) -> None:
    await two_linked(slack)
    acme = [(customer_message(f"{WORDS[n % 4]} ({n})", f"1700006000.{n:06d}"), f"EvBA{n}") for n in range(8)]
    globex = [
        (customer_message(f"{WORDS[n % 4]} #{n}", f"1700006100.{n:06d}", user=f"W{n}", team="T8", channel=GLOBEX),
         f"EvBG{n}")
        for n in range(6)
    ]  # fmt: skip
    elsewhere = [(customer_message("noise", f"1700006200.{n:06d}", channel="C0RANDOM"), f"EvBX{n}") for n in range(4)]
    burst = [slack.event(event, key, drain=False) for event, key in acme + globex + elsewhere]
    burst += [slack.event(event, key, retry=1, drain=False) for event, key in acme[:4] + globex[:3]]  # retries
    burst += [slack.event(acme[0][0], "EvBA0-again", drain=False)]  # the same message, another delivery id
    burst += [slack.event(globex[5][0], "EvBG5-again", drain=False)]
    await asyncio.gather(*burst)
    await slack.face.work.drain()
    await slack.outbox.drain()

    async with db.sessions() as session:
        owners = dict(
            (await session.execute(select(Ticket.external_ref, Member.platform_user_id).join(
                Member, Member.id == Ticket.owner_id))).all()
        )  # fmt: skip
        notes = list(
            (
                await session.execute(
                    select(TicketEvent.ticket_id).where(TicketEvent.kind == TicketEventKind.CUSTOMER_MESSAGE)
                )
            ).scalars()
        )
        stored = set((await session.execute(select(SlackEvent.event_id))).scalars())
        messages = await session.scalar(select(func.count()).select_from(ChannelMessage))
    expected = {f"{SHARED}:1700006000.{n:06d}": "U1" for n in range(8)}
    expected |= {f"{GLOBEX}:1700006100.{n:06d}": "U2" for n in range(6)}
    assert owners == expected  # one ticket per message, each for its channel's customer's owner
    assert len(notes) == len(set(notes)) == 14  # each message the first customer note of its ticket, once
    assert messages == 14
    assert not {key for _, key in elsewhere} & stored  # the unlinked channel: not even the event id
    named = [c["channel"] for c in slack.fake.called("chat.postMessage") if c["channel"] in (SHARED, GLOBEX)]
    assert sorted(named) == [SHARED] * 8 + [GLOBEX] * 6
    assert len(slack.fake.dms_to("U1")) == 8 and len(slack.fake.dms_to("U2")) == 6
