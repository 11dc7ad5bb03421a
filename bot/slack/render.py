"""Block Kit for ownerbot's neutral Replies, built with slack_sdk.models (the only Block Kit in the project)."""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
    UserSelectElement,
)
from slack_sdk.models.views import View

from handlers import Button, Prompt, Reply

PROMPT_CALLBACK = "ownerbot.prompt"
PROMPT_BLOCK = "ownerbot_prompt"
PROMPT_INPUT = "answer"
PICK_BLOCK = "ownerbot_pick"  # the people picker of a Prompt with pick_person
PICK_INPUT = "person"
ACTION_SUFFIX = "#"  # Slack wants unique action_ids per block: `ownerbot.handoff.accept#2`
MAX_SECTION = 2900
MAX_FIELD = 1900
MAX_FIELDS = 10


# What stays Slack markup in reply text: people (`<@U1>`, and `<@U1|carol>` typed in a reason, shown as the
# mention without its typed label), channels (`<#C1>`), and moments (`handlers.replies.when`).
SLACK_TOKEN = re.compile(
    r"<(?P<person>@[UW][A-Z0-9_]+)(?:\|[^<>]*)?>"
    r"|<(?P<channel>#[CG][A-Z0-9]+)(?:\|[^<>]*)?>"
    r"|(?P<moment><!date\^\d+\^\{date_short_pretty\} \{time\}\|[^<>|]*>)"
)
CODE_SPAN = re.compile(r"(`[^`\n]+`)")
# mrkdwn has no escape for these; a date token with an unknown format shows its fallback verbatim (jsx-slack's
# way), so a name like `*Acme*` or a reason with `_urgent_` reads as typed and never formats.
FORMATTING = re.compile(r"[*_~]")
LITERAL = "<!date^00000000^{{_}}|{}>"


def _literal(text: str, *, code: bool) -> str:
    """Text with & < > escaped and mrkdwn formatting characters neutralized (code spans keep theirs)."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if code:
        return escaped
    paired = {mark for mark in "*_~" if escaped.count(mark) > 1}  # a lone mark never formats

    def literal(found: re.Match[str]) -> str:
        before, after = escaped[found.start() - 1 : found.start()], escaped[found.end() : found.end() + 1]
        inside_a_word = before.isalnum() and after.isalnum()  # not_in_channel, my_co: Slack leaves these alone
        return found[0] if inside_a_word or found[0] not in paired else LITERAL.format(found[0])

    return FORMATTING.sub(literal, escaped)


def _plain(text: str) -> str:
    return "".join(_literal(part, code=bool(CODE_SPAN.fullmatch(part))) for part in CODE_SPAN.split(text))


def escape(text: str) -> str:
    """Text shown as mrkdwn: no <links>, <!channel> pings or fake <@U1|names>; people, channels and moments stay
    tokens; `*`, `_`, `~` never format. `code spans` stay: the handlers write commands to type in them."""
    parts: list[str] = []
    end = 0
    for token in SLACK_TOKEN.finditer(text):
        parts.append(_plain(text[end : token.start()]))
        person, channel, moment = token.group("person", "channel", "moment")
        parts.append(f"<{person}>" if person else f"<{channel}>" if channel else moment)
        end = token.end()
    parts.append(_plain(text[end:]))
    return "".join(parts)


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def action_id_of(slack_action_id: str) -> str:
    """Our ActionId from a Block Kit action_id (drops the uniqueness suffix)."""
    return slack_action_id.split(ACTION_SUFFIX, 1)[0]


def fallback_text(reply: Reply) -> str:
    """Notification text (and what screen readers read)."""
    return clip(("⚠️ " if reply.error else "") + escape(reply.plain_text()), 3000)


def _confirm(button: Button) -> ConfirmObject:
    """Slack's "are you sure?" dialog before a consequential button acts."""
    return ConfirmObject(
        title=PlainTextObject(text="Are you sure?"),
        text=PlainTextObject(text=clip(button.confirm, 300)),
        confirm=PlainTextObject(text=clip(button.label, 30)),
        deny=PlainTextObject(text="Cancel"),
        style="danger" if button.style == "danger" else "primary",
    )


def _buttons(buttons: list[Button]) -> list[Block]:
    seen: Counter[str] = Counter()
    elements = []
    for button in buttons:
        seen[button.action_id] += 1
        suffix = f"{ACTION_SUFFIX}{seen[button.action_id]}" if seen[button.action_id] > 1 else ""
        elements.append(
            ButtonElement(
                text=PlainTextObject(text=clip(button.label, 75)),
                action_id=button.action_id + suffix,
                value=clip(button.value, 2000),
                style=button.style,
                confirm=_confirm(button) if button.confirm else None,
            )
        )
    return [ActionsBlock(elements=elements[i : i + 25]) for i in range(0, len(elements), 25)]


def _fields(fields: list[tuple[str, str]]) -> list[Block]:
    if not fields:
        return []
    short = len(fields) <= MAX_FIELDS and all(len(label) + len(value) < 300 for label, value in fields)
    if short:
        return [
            SectionBlock(
                fields=[
                    MarkdownTextObject(text=f"*{escape(label)}*\n{escape(value) or ' '}") for label, value in fields
                ]
            )
        ]
    blocks: list[Block] = []
    chunk = ""
    for label, value in fields:
        line = clip(f"*{escape(label)}*  {escape(value)}", MAX_FIELD) + "\n"
        if len(chunk) + len(line) > MAX_SECTION:
            blocks.append(SectionBlock(text=MarkdownTextObject(text=chunk)))
            chunk = ""
        chunk += line
    if chunk:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=chunk)))
    return blocks


MAX_MESSAGE_BLOCKS = 50  # Slack's limits: blocks in a message, and in a modal or the App Home
MAX_VIEW_BLOCKS = 100


def within(head: list[Block], body: list[Block], tail: list[Block], limit: int) -> list[Block]:
    """head + body + tail in at most `limit` blocks: the body is cut, and says so, never the buttons."""
    room = limit - len(head) - len(tail)
    if len(body) > room:
        cut = len(body) - (room - 1)
        note = f"… and {cut} more section(s) not shown here: narrow it down, or use `--page`."
        body = [*body[: room - 1], ContextBlock(elements=[MarkdownTextObject(text=note)])]
    return [*head, *body, *tail][:limit]


def message_blocks(reply: Reply) -> list[dict[str, Any]]:
    text = clip(("⚠️ " if reply.error else "") + escape(reply.text), MAX_SECTION)
    if text and not reply.fields and not reply.buttons:  # most replies: one section, as slack_sdk writes it
        return [section(text)]
    head: list[Block] = [SectionBlock(text=MarkdownTextObject(text=text))]
    blocks = within(head, _fields(reply.fields), _buttons(reply.buttons), MAX_MESSAGE_BLOCKS)
    return [block.to_dict() for block in blocks]


def section(text: str) -> dict[str, Any]:
    """`SectionBlock(text=MarkdownTextObject(text=text)).to_dict()` for text already clipped to Slack's limit,
    without slack_sdk's validation pass, which costs more than the rest of a one-line reply's rendering."""
    return {"text": {"text": text, "type": "mrkdwn"}, "type": "section"}


def message(reply: Reply) -> dict[str, Any]:
    """The `text` + `blocks` of a chat.postMessage / response_url body."""
    return {"text": fallback_text(reply), "blocks": message_blocks(reply)}


@dataclass(frozen=True)
class PromptContext:
    """What a modal's submit needs back, kept in the view's private_metadata (no server-side state)."""

    action_id: str
    value: str
    channel_id: str | None = None
    response_url: str | None = None
    message_ts: str | None = None

    def dump(self) -> str:
        return json.dumps(
            {"a": self.action_id, "v": self.value, "c": self.channel_id, "r": self.response_url, "t": self.message_ts},
            separators=(",", ":"),
        )

    @classmethod
    def load(cls, raw: str) -> PromptContext:
        data = json.loads(raw or "{}")
        return cls(
            action_id=str(data.get("a", "")),
            value=str(data.get("v", "")),
            channel_id=data.get("c"),
            response_url=data.get("r"),
            message_ts=data.get("t"),
        )


def prompt_modal(prompt: Prompt, context: PromptContext) -> dict[str, Any]:
    element = PlainTextInputElement(
        action_id=PROMPT_INPUT,
        multiline=True,
        min_length=prompt.min_length or None,
        max_length=prompt.max_length,
        placeholder=PlainTextObject(text=clip(prompt.placeholder, 150)) if prompt.placeholder else None,
    )
    label = prompt.label
    blocks: list[Block] = []
    if prompt.pick_person:  # a users_select, optional so a typed `@person reason` still works
        blocks.append(
            InputBlock(
                block_id=PICK_BLOCK,
                label=PlainTextObject(text=clip(prompt.pick_person, 2000)),
                element=UserSelectElement(action_id=PICK_INPUT, placeholder=PlainTextObject(text="Pick a person")),
                optional=True,
            )
        )
        label = "Why should they take it? (Nobody picked above? Type @person first, then why.)"
    blocks.append(InputBlock(block_id=PROMPT_BLOCK, label=PlainTextObject(text=clip(label, 2000)), element=element))
    view = View(
        type="modal",
        callback_id=PROMPT_CALLBACK,
        title=PlainTextObject(text=clip(prompt.title, 24)),
        submit=PlainTextObject(text="Send"),
        close=PlainTextObject(text="Cancel"),
        private_metadata=context.dump(),
        blocks=blocks,
    )
    return view.to_dict()


def prompt_answer(view: dict[str, Any]) -> str:
    state = view.get("state", {}).get("values", {})
    return (state.get(PROMPT_BLOCK, {}).get(PROMPT_INPUT, {}) or {}).get("value") or ""


def picked_person(view: dict[str, Any]) -> str | None:
    """The user id chosen in the modal's users_select, if any."""
    state = view.get("state", {}).get("values", {})
    return (state.get(PICK_BLOCK, {}).get(PICK_INPUT, {}) or {}).get("selected_user") or None


def home_view(reply: Reply, *, updated: str) -> dict[str, Any]:
    """The App Home tab: the `mine` overview, with Accept / Decline for handoffs waiting."""
    head: list[Block] = [HeaderBlock(text=PlainTextObject(text="Your customers"))]
    head += [SectionBlock(text=MarkdownTextObject(text=clip(escape(reply.text), MAX_SECTION)))]
    if reply.fields:
        head.append(DividerBlock())
    tail: list[Block] = _buttons(reply.buttons)
    tail.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f"Updated {updated}. Commands: `/claim`, `/handoff`, `/release`, `/whoowns`, `/mine`, "
                    "`/ownerbot help`."
                )
            ]
        )
    )
    return View(type="home", blocks=within(head, _fields(reply.fields), tail, MAX_VIEW_BLOCKS)).to_dict()
