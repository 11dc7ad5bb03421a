"""The neutral tokens in reply text, the Teams way (see the shared contract in handlers/replies.py).

- A person, `<@USERID>` (or `<@USERID|label>`): `<at>Display Name</at>` plus a mention entity, where Teams can
  mention (a message's text, a card's text blocks); elsewhere (facts, a card's fallback text) the name alone.
- A moment, Slack's `<!date^EPOCH^{format}|fallback>`: in a card's text blocks Adaptive Cards' own
  `{{DATE(…, SHORT)}} {{TIME(…)}}`, which Teams shows in the reader's zone; elsewhere the moment in the reader's
  stored zone (UTC when unknown, e.g. a channel post).

Only tokens found are rewritten, so text without them is left exactly as it was.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from handlers import Reply
from handlers.replies import MOMENT, moment_in_zone, moments_in_zone

PERSON = re.compile(r"<@([A-Za-z0-9:_\-.]+)(?:\|([^>]*))?>")


@dataclass(frozen=True)
class Person:
    mention_id: str  # what a Teams mention entity names: the Bot Framework id (29:...), else the Entra id
    name: str


@dataclass(frozen=True)
class Readers:
    """What rendering needs to know about the people named and the one reading."""

    people: Mapping[str, Person] = field(default_factory=dict)  # platform user id -> how to show them
    zone: str | None = None  # the reader's IANA zone; None: UTC

    def name_of(self, user_id: str, label: str | None) -> str:
        known = self.people.get(user_id)
        return known.name if known else (label or "").replace("\u00a0", " ").strip() or user_id


def user_ids_in(reply: Reply) -> set[str]:
    """Every person token's user id in the reply's text, fields and prompt."""
    texts: list[str] = [reply.text]
    texts += [part for pair in reply.fields for part in pair]
    if reply.prompt is not None:
        texts += [reply.prompt.title, reply.prompt.label]
    return {match.group(1) for text in texts for match in PERSON.finditer(text)}


def plain(text: str, readers: Readers) -> str:
    """Names for people, the reader's local time for moments: for facts, fallback text, anything not mentionable."""
    text = PERSON.sub(lambda m: readers.name_of(m.group(1), m.group(2)), text)
    return moments_in_zone(text, readers.zone)


def mentioning(text: str, readers: Readers, entities: list[dict[str, Any]], *, card: bool) -> str:
    """People as `<at>Name</at>` (their mention entity appended to `entities`); moments as the card's DATE()/TIME()
    when `card`, else in the reader's zone."""

    def person(match: re.Match[str]) -> str:
        user_id, label = match.group(1), match.group(2)
        name = readers.name_of(user_id, label)
        known = readers.people.get(user_id)
        shown = f"<at>{name}</at>"
        entities.append(
            {
                "type": "mention",
                "text": shown,
                "mentioned": {"id": known.mention_id if known else user_id, "name": name},
            }
        )
        return shown

    def moment(match: re.Match[str]) -> str:
        if not card:
            return moment_in_zone(int(match.group(1)), readers.zone)
        iso = datetime.fromtimestamp(int(match.group(1)), tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return f"{{{{DATE({iso}, SHORT)}}}} {{{{TIME({iso})}}}}"

    return MOMENT.sub(moment, PERSON.sub(person, text))


def has_tokens(texts: Iterable[str]) -> bool:
    return any(PERSON.search(text) or MOMENT.search(text) for text in texts)
