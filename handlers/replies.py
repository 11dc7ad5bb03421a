"""The neutral language between the platforms and the handlers: what came in, and what to say back.

Platforms translate their payloads into `Invocation` / `ActionInvocation`, and render `Reply` their own way
(Block Kit, Adaptive Cards, console text). Nothing here knows any platform.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from db.models import Member, Platform


class ActionId:
    """Button and form action ids: defined once, shared by every renderer."""

    ACCEPT_HANDOFF = "ownerbot.handoff.accept"
    DECLINE_HANDOFF = "ownerbot.handoff.decline"
    HANDOFF_REASON = "ownerbot.handoff.reason"  # submit of the "why?" prompt for a handoff
    DECLINE_REASON = "ownerbot.handoff.decline_reason"  # submit of the "why?" prompt for a decline
    # Frugal wow: every value is the gesture (proposal) id.
    GESTURE_VOTE_YES = "ownerbot.gesture.vote_yes"
    GESTURE_VOTE_NO = "ownerbot.gesture.vote_no"
    GESTURE_COMMENT = "ownerbot.gesture.comment"  # opens a prompt for a short comment
    GESTURE_COMMENT_SUBMIT = "ownerbot.gesture.comment_submit"  # submit of that prompt
    GESTURE_CONFIRM_OVER_BUDGET = "ownerbot.gesture.confirm_over_budget"  # leads only
    GESTURE_DECLINE_OVER_BUDGET = "ownerbot.gesture.decline_over_budget"  # leads only
    GESTURE_DELIVERED = "ownerbot.gesture.delivered"
    NUDGE_DONE = "ownerbot.nudge.done"  # value: delivery id
    NUDGE_SNOOZE = "ownerbot.nudge.snooze"  # value: "<delivery id>:1h|4h|morning"
    NUDGE_HANDOFF = "ownerbot.nudge.handoff"  # value: delivery id; answers with a prompt for @person + reason
    NUDGE_HANDOFF_SUBMIT = "ownerbot.nudge.handoff_submit"  # submit of that prompt
    NUDGE_NOT_HAPPY = "ownerbot.nudge.not_happy"  # a check-in answered "not happy"; prompts for what is wrong
    NUDGE_NOT_HAPPY_SUBMIT = "ownerbot.nudge.not_happy_submit"
    STEP_OUT = "ownerbot.custody.step_out"  # on an abusive-message notice; value: ticket id
    STEP_OUT_ACCEPT = "ownerbot.custody.accept"  # value: custody id
    STEP_OUT_DECLINE = "ownerbot.custody.decline"
    REBALANCE = "ownerbot.field.rebalance"  # a suggested move; value: "<customer id>:<member id>"; prompts a reason


@dataclass(frozen=True)
class Invocation:
    """A typed command: `claim acme`, from one person in one workspace."""

    platform: Platform
    workspace: str  # the platform's workspace / tenant id
    user_id: str  # the platform's user id
    text: str  # the command and its arguments, mentions normalized to `<@USERID>` or `<@USERID|name>`
    user_name: str = ""
    channel_id: str | None = None
    time_zone: str | None = None
    workspace_name: str = ""


@dataclass(frozen=True)
class ActionInvocation:
    """A button click or a form submit."""

    platform: Platform
    workspace: str
    user_id: str
    action_id: str
    value: str = ""
    input: str | None = None  # the text typed into a prompt, when the action is a prompt's submit
    picked_user: str | None = None  # the platform user id chosen in a prompt's people picker (Prompt.pick_person)
    user_name: str = ""
    channel_id: str | None = None
    time_zone: str | None = None


@dataclass(frozen=True)
class Button:
    label: str
    action_id: str
    value: str = ""
    style: str | None = None  # "primary" | "danger" | None
    confirm: str = ""  # non-empty: ask "are you sure?" with this text before acting (Slack's confirm dialog)


@dataclass(frozen=True)
class Prompt:
    """Ask for one required line of text (a modal on Slack, a card with a required input on Teams)."""

    title: str
    label: str
    submit_action_id: str
    value: str  # context handed back with the submit
    min_length: int = 0
    max_length: int = 2000
    placeholder: str = ""
    noun: str = "reason"  # what is asked for, as a typed answer's refusal names it: "type the reason, or `cancel`"
    # Non-empty: the prompt also asks for a person with a native picker labelled so (Slack `users_select`, Teams
    # `Input.ChoiceSet` fed by the roster); the choice comes back as ActionInvocation.picked_user.
    pick_person: str = ""


@dataclass
class Reply:
    text: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    buttons: list[Button] = field(default_factory=list)
    ephemeral: bool = True  # only the invoker sees it; False: the channel sees it
    error: bool = False
    replace_original: bool = False  # a button's answer updates the message the button was on
    prompt: Prompt | None = None
    notices: list[Notice] = field(default_factory=list)  # messages for other people (DMs)
    thread: str | None = None  # posted to a channel: as a reply in this thread (the platform id of its first message)

    def plain_text(self) -> str:
        """The whole reply as plain text (console, logs, notifications' fallback text)."""
        lines = [self.text]
        lines += [f"  {label}: {value}" for label, value in self.fields]
        return "\n".join(lines)


@dataclass(frozen=True)
class Notice:
    """A message for someone other than the invoker, delivered by the platform as a DM."""

    to_user_id: str  # the platform's user id
    reply: Reply


# A moment in reply text: Slack's own date token, which Slack shows in the reader's zone; the console and Teams
# rewrite it in the reader's zone; the fallback after `|` is the moment in UTC.
MOMENT = re.compile(r"<!date\^(\d+)\^\{date_short_pretty\} \{time\}\|([^<>|]*)>")
# A person in reply text: `<@PLATFORM_USER_ID>`; each face shows it natively (a mention, or `@Name` as text).
PERSON = re.compile(r"<@([^<>|\s]+)>")


def when(moment: datetime) -> str:
    """A moment as every reply shows it: `<!date^1795426200^{date_short_pretty} {time}|2026-11-23 09:30 UTC>`,
    read in each reader's own zone (the text after `|` is the UTC fallback)."""
    utc = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    return f"<!date^{int(utc.timestamp())}^{{date_short_pretty}} {{time}}|{utc:%Y-%m-%d %H:%M} UTC>"


def person(member: Member) -> str:
    """A member as reply text names them: `<@U123>` (a mention on Slack, `@Name` in the console)."""
    return f"<@{member.platform_user_id}>"


def moment_in_zone(epoch: int, zone: str | None) -> str:
    """A moment token's instant written out in `zone` (UTC when None or unknown): `2026-11-23 10:30 CET`."""
    try:
        tz = ZoneInfo(zone) if zone else UTC
    except (ValueError, ZoneInfoNotFoundError):
        tz = UTC
    moment = datetime.fromtimestamp(epoch, tz)
    return f"{moment:%Y-%m-%d %H:%M} {'UTC' if tz is UTC else moment.tzname()}"


def moments_in_zone(text: str, zone: str | None) -> str:
    """Text with every moment token written out in `zone` (UTC when None or unknown)."""
    return MOMENT.sub(lambda match: moment_in_zone(int(match.group(1)), zone), text)


def people_named(text: str, names: dict[str, str]) -> str:
    """Text with every person token written as `@Name` (their display name; the id when unknown)."""
    return PERSON.sub(lambda match: "@" + names.get(match.group(1), match.group(1)), text)
