"""When the chat platform refuses a message: rate limits are retried after `retry_after`, permanent refusals
stop (and the proposer and the team's lead are told once), and nothing is sent twice. The platform here is the
console inbox with a refusal in front of it (a stand-in for a platform answering 429 or "user not found"; our
own code runs for real)."""

from __future__ import annotations

from bot.console import ConsoleNotifier
from db.models import OutboxStatus, Platform
from handlers import ActionId
from handlers.ports import DeliveryFailed, MessageRef, Notifier
from handlers.replies import Reply
from jobs.gesture_closer import close_due_proposals

from ..conftest import Chat, Clock, Database
from .conftest import card_of, fields, messages, posts, propose, send


class RefusingPlatform(ConsoleNotifier):
    """Refuses the next `busy` channel posts as rate-limited, and every DM to `unreachable` for good."""

    def __init__(self, inbox: ConsoleNotifier, *, busy: int, unreachable: str) -> None:
        super().__init__(inbox.inbox)
        self.busy = busy
        self.unreachable = unreachable
        self.refused: list[str] = []

    async def post_channel(self, *, workspace: str, channel_id: str, reply: Reply) -> MessageRef:
        if self.busy > 0:
            self.busy -= 1
            self.refused.append("channel")
            raise DeliveryFailed("rate limited", retry_after=30)
        return await super().post_channel(workspace=workspace, channel_id=channel_id, reply=reply)

    async def send_direct(self, *, workspace: str, user_id: str, reply: Reply) -> MessageRef:
        if user_id == self.unreachable:
            self.refused.append(user_id)
            raise DeliveryFailed("the user never talked to the bot", permanent=True)
        return await super().send_direct(workspace=workspace, user_id=user_id, reply=reply)


async def test_rate_limits_retry_and_permanent_failures_stop(
    team_chat: Chat, db: Database, inbox: ConsoleNotifier, notifiers: dict[Platform, Notifier], clock: Clock
) -> None:
    platform = RefusingPlatform(inbox, busy=1, unreachable="U2")
    notifiers[Platform.CONSOLE] = platform  # the outbox sender speaks through it from now on

    pid = await propose(team_chat, "U2", "wow acme a thank-you card --deadline 1h")
    assert platform.refused == ["channel"] and posts(inbox) == []  # the card waits for the rate limit
    [(_, card_row)] = await messages(db, pid, "card")
    assert card_row.status == OutboxStatus.PENDING and card_row.last_error == "rate limited"

    clock.advance(seconds=20)
    assert (await send(db, notifiers, clock)).sent == 0  # still inside retry_after
    clock.advance(seconds=10)
    assert (await send(db, notifiers, clock)).sent == 1 and len(posts(inbox)) == 1
    vote = await team_chat.click("U1", ActionId.GESTURE_VOTE_YES, str(pid))
    assert not vote.error
    _, card = card_of(inbox, pid)
    assert fields(card)["Yes (1)"] == "u1"

    clock.advance(hours=1)
    await close_due_proposals(sessions=db.sessions, now=clock())
    await send(db, notifiers, clock)
    [to_proposer] = [m for _, m in await messages(db, pid, "outcome-dm") if m.target == "U2"]
    assert to_proposer.status == OutboxStatus.FAILED and to_proposer.last_error == "the user never talked to the bot"
    assert posts(inbox, "user-U2") == [] and len(posts(inbox, "user-U1")) == 1
    [told] = posts(inbox, "user-U_LEAD")  # the team's lead hears that the proposer could not be reached
    assert "could not deliver a gesture message to <@U2>" in told["reply"]["text"]
    clock.advance(hours=2)
    await close_due_proposals(sessions=db.sessions, now=clock())
    await send(db, notifiers, clock)
    assert platform.refused.count("U2") == 1  # not tried again
    assert len(posts(inbox, "user-U1")) == 1 and len(posts(inbox, "user-U_LEAD")) == 1  # told once
