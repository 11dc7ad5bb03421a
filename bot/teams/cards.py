"""Reply -> Adaptive Card, with the adaptive-cards-py builder. The only place Teams cards are made.

Buttons are `Action.Execute` (Teams answers them with an `adaptiveCard/action` invoke, and the card can be
replaced in place by the invoke response), with an `Action.Submit` fallback for hosts without Universal Actions
(those arrive as a message whose `value` carries the same data). Both carry `{action_id, value}`.
A prompt is a card with one required `Input.Text` (id `input`) whose submit also carries the prompt itself, so a
too-short answer can show the same card again with the error.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, Final

from adaptive_cards.card import (
    ActionExecute,
    ActionSubmit,
    AdaptiveCard,
    Fact,
    FactSet,
    InputText,
    TextBlock,
)
from adaptive_cards.types import ActionStyle, Colors
from botbuilder.core import MessageFactory
from botbuilder.schema import Activity, Attachment, ChannelAccount, Mention

from handlers import Button, Prompt, Reply

from .native_text import Readers, mentioning, plain
from .sizes import MESSAGE_BUDGET, fitted, utf16_size

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
CARD_VERSION: Final = "1.4"  # Action.Execute (Universal Actions) needs 1.4
PICKER_CARD_VERSION: Final = "1.5"  # Input.ChoiceSet's `choices.data` (a typeahead fed by the bot)
INPUT_ID = "input"
PERSON_ID = "person"  # the people picker's input: the chosen person's user id
PEOPLE_DATASET = "ownerbot.people"
NO_READERS = Readers()
STYLES = {"primary": ActionStyle.POSITIVE, "danger": ActionStyle.DESTRUCTIVE}


def needs_card(reply: Reply) -> bool:
    return bool(reply.fields or reply.buttons or reply.prompt)


def _action(title: str, data: dict[str, Any], style: str | None = None) -> ActionExecute:
    """A button: Action.Execute, falling back to Action.Submit with the same data."""
    return ActionExecute(
        title=title,
        verb=str(data["action_id"]),
        data=data,
        style=STYLES.get(style or ""),
        mode=None,
        fallback=ActionSubmit(title=title, data=data, style=STYLES.get(style or ""), mode=None),
    )


def button_data(button: Button) -> dict[str, Any]:
    return {"action_id": button.action_id, "value": button.value}


def prompt_data(prompt: Prompt) -> dict[str, Any]:
    return {
        "action_id": prompt.submit_action_id,
        "value": prompt.value,
        "prompt": {
            "title": prompt.title,
            "label": prompt.label,
            "min_length": prompt.min_length,
            "max_length": prompt.max_length,
            "placeholder": prompt.placeholder,
            "noun": prompt.noun,
            "pick_person": prompt.pick_person,
        },
    }


def prompt_from_data(action_id: str, value: str, data: object) -> Prompt | None:
    """The prompt a submit came from (carried in its data), so it can be shown again with an error."""
    if not isinstance(data, dict):
        return None
    try:
        return Prompt(
            title=str(data["title"]),
            label=str(data["label"]),
            submit_action_id=action_id,
            value=value,
            min_length=int(data.get("min_length", 0)),
            max_length=int(data.get("max_length", 2000)),
            placeholder=str(data.get("placeholder", "")),
            noun=str(data.get("noun") or "reason"),
            pick_person=str(data.get("pick_person") or ""),
        )
    except (KeyError, TypeError, ValueError):
        return None


def people_picker(label: str) -> dict[str, Any]:
    """A required person input: an `Input.ChoiceSet` whose choices come from the roster as the person types
    (`choices.data`: Teams sends an `application/search` invoke for the PEOPLE_DATASET, answered by the bot)."""
    return {
        "type": "Input.ChoiceSet",
        "id": PERSON_ID,
        "label": label,
        "isRequired": True,
        "errorMessage": "Please pick a person.",
        "style": "filtered",
        "choices": [],
        "choices.data": {"type": "Data.Query", "dataset": PEOPLE_DATASET},
        "placeholder": "Type a name",
    }


def render_card(reply: Reply, readers: Readers = NO_READERS) -> dict[str, Any]:
    """The reply as Adaptive Card JSON (a dict ready for an attachment or an invoke response); people in its text
    are Teams mentions, moments show in the reader's zone (native_text.py)."""
    entities: list[dict[str, Any]] = []
    builder = AdaptiveCard.new().version(CARD_VERSION).fallback_text(plain(reply.plain_text(), readers)[:1000])
    builder.add_item(
        TextBlock(
            text=mentioning(reply.text, readers, entities, card=True),
            wrap=True,
            color=Colors.ATTENTION if reply.error else None,
            weight=None,
        )
    )
    if reply.fields:
        builder.add_item(
            FactSet(
                facts=[
                    Fact(title=plain(label, readers), value=plain(value, readers) or "-")
                    for label, value in reply.fields
                ]
            )
        )
    prompt = reply.prompt
    if prompt is not None:
        builder.add_item(
            TextBlock(text=mentioning(prompt.title, readers, entities, card=True), wrap=True, weight="bolder")
        )
        at_least = max(prompt.min_length, 1)
        builder.add_item(
            InputText(
                id=INPUT_ID,
                label=prompt.label,
                is_required=True,
                is_multiline=True,
                max_length=prompt.max_length,
                placeholder=prompt.placeholder or None,
                regex=rf"^[\s\S]{{{at_least},{prompt.max_length}}}$",
                error_message=f"Please write at least {at_least} characters.",
            )
        )
        builder.add_action(_action("Send", prompt_data(prompt), "primary"))
    for button in reply.buttons:
        builder.add_action(_action(button.label, button_data(button), button.style))
    card: dict[str, Any] = json.loads(builder.create().to_json())
    if prompt is not None and prompt.pick_person:
        at = next(i for i, item in enumerate(card["body"]) if item.get("id") == INPUT_ID)
        card["body"].insert(at, people_picker(prompt.pick_person))
        card["version"] = PICKER_CARD_VERSION
    if entities:
        card["msteams"] = {"entities": entities}
    return card


def card_attachment(reply: Reply, readers: Readers = NO_READERS) -> dict[str, Any]:
    return {"contentType": CARD_CONTENT_TYPE, "content": render_card(reply, readers)}


def invoke_card_response(reply: Reply, readers: Readers = NO_READERS) -> dict[str, Any]:
    """The body of an `adaptiveCard/action` invoke response that replaces the clicked card in place."""
    shown = fitted(reply, lambda r: utf16_size(render_card(r, readers)))
    return {"statusCode": 200, "type": CARD_CONTENT_TYPE, "value": render_card(shown, readers)}


def search_response(people: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """The answer to an `application/search` invoke: (name, user id) choices for the people picker."""
    return {
        "type": "application/vnd.microsoft.search.searchResponse",
        "value": {"results": [{"title": name, "value": user_id} for name, user_id in people]},
    }


def invoke_message_response(text: str) -> dict[str, Any]:
    """The body of an `adaptiveCard/action` invoke response that leaves the card as it is."""
    return {"statusCode": 200, "type": "application/vnd.microsoft.activity.message", "value": text[:280]}


def reply_activity(
    reply: Reply,
    *,
    activity_id: str | None = None,
    budget: int = MESSAGE_BUDGET,
    readers: Readers = NO_READERS,
) -> Activity:
    """A message activity for the reply: an Adaptive Card when it has fields, buttons or a prompt, else text (with
    its mentions); cut to fit one Teams message (`budget`, see sizes.py)."""
    shown = fitted(reply, lambda r: utf16_size(_message(r, activity_id, readers).serialize()), budget)
    return _message(shown, activity_id, readers)


def _message(reply: Reply, activity_id: str | None, readers: Readers) -> Activity:
    if needs_card(reply):
        content = render_card(reply, readers)
        activity = MessageFactory.attachment(Attachment(content_type=CARD_CONTENT_TYPE, content=content))
    else:
        entities: list[dict[str, Any]] = []
        activity = MessageFactory.text(mentioning(reply.plain_text(), readers, entities, card=False))
        activity.text_format = "markdown"
        if entities:
            activity.entities = [
                Mention(mentioned=ChannelAccount(**e["mentioned"]), text=e["text"], type="mention") for e in entities
            ]
    if activity_id:
        activity.id = activity_id
    return activity
