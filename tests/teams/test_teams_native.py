"""The neutral tokens rendered the Teams way, at the wire: `<@USERID>` as a mention (`<at>Name</at>` plus a mention
entity), Slack's date token as Adaptive Cards' DATE()/TIME() or the reader's own zone, and Prompt.pick_person as
a people picker whose typeahead the bot answers from the roster. SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from handlers import ActionId, Button, Prompt, Reply

from ..conftest import Database
from .conftest import CHANNEL, PEOPLE, TENANT, TeamsWire, card_of, text_of

MOMENT = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
DATE_TOKEN = f"<!date^{int(MOMENT.timestamp())}^{{date_short_pretty}} {{time}}|2026-11-23 09:30 UTC>"


async def test_a_person_token_in_a_direct_message_is_a_real_mention_and_times_are_in_the_readers_zone(
    wire: TeamsWire,
) -> None:
    await wire.say("ann", "mine")  # Ann's zone is Europe/Berlin (her Teams client says so)
    await wire.members_added([wire.account("kim")])
    text = f"<@{PEOPLE['kim'][0]}> took over Acme on {DATE_TOKEN}."
    await wire.notifier.send_direct(workspace=TENANT, user_id=PEOPLE["ann"][0], reply=Reply(text))

    sent = wire.dm("ann")[-1]
    assert sent["text"] == "<at>Kim Park</at> took over Acme on 2026-11-23 10:30 CET."
    mentions = [e for e in sent.get("entities", []) if e["type"] == "mention"]
    assert mentions == [
        {"type": "mention", "text": "<at>Kim Park</at>", "mentioned": {"id": PEOPLE["kim"][1], "name": "Kim Park"}}
    ]


async def test_a_channel_card_mentions_people_and_shows_times_with_date_and_time_functions(wire: TeamsWire) -> None:
    await wire.members_added([{"id": "28:ownerbot-app-id"}], by="lee")  # reads the team: Sam is on the roster
    reply = Reply(
        f"Vote: a thank-you card for Acme, proposed by <@{PEOPLE['sam'][0]}|sam>. Closes {DATE_TOKEN}.",
        fields=[("Proposed by", f"<@{PEOPLE['sam'][0]}>"), ("Closes", DATE_TOKEN)],
        buttons=[Button("Yes", ActionId.GESTURE_VOTE_YES, "1")],
        ephemeral=False,
    )
    await wire.notifier.post_channel(workspace=TENANT, channel_id=CHANNEL, reply=reply)

    card = card_of(wire.to(CHANNEL)[-1])
    first = card["body"][0]["text"]
    assert first == (
        "Vote: a thank-you card for Acme, proposed by <at>Sam Jones</at>. "
        "Closes {{DATE(2026-11-23T09:30:00Z, SHORT)}} {{TIME(2026-11-23T09:30:00Z)}}."
    )
    assert card["msteams"]["entities"] == [
        {"type": "mention", "text": "<at>Sam Jones</at>", "mentioned": {"id": PEOPLE["sam"][1], "name": "Sam Jones"}}
    ]
    facts = {f["title"]: f["value"] for f in card["body"][1]["facts"]}
    assert facts == {"Proposed by": "Sam Jones", "Closes": "2026-11-23 09:30 UTC"}  # a channel: no one zone
    assert "<@" not in json.dumps(card) and "<!date" not in json.dumps(card)


async def test_a_mention_inside_a_handoff_reason_reaches_the_receiver_as_the_name_never_as_markup(
    wire: TeamsWire,
) -> None:
    await wire.say("admin", "customer add Acme")
    await wire.say("ann", "claim acme")
    await wire.say("sam", "mine")
    await wire.say("ann", "handoff acme @sam ask @kim about their contract ✍️", mentions=["sam", "kim"])

    offer = card_of(wire.dm("sam")[-1])
    assert "Reason: ask Kim Park about their contract ✍️" in text_of(offer)
    assert "<@" not in json.dumps(offer) and "&lt;" not in json.dumps(offer)


async def test_a_prompt_that_picks_a_person_is_a_people_picker_fed_by_the_roster(wire: TeamsWire, db: Database) -> None:
    await wire.members_added([{"id": "28:ownerbot-app-id"}], by="lee")  # the roster: everyone in the team
    await wire.say("ann", "mine")
    ask = Reply(
        "Hand off ticket #4?",
        prompt=Prompt(
            title="Who takes it, and why?",
            label="Reason",
            submit_action_id=ActionId.NUDGE_HANDOFF_SUBMIT,
            value="4",
            min_length=10,
            pick_person="Hand it to",
        ),
    )
    await wire.notifier.send_direct(workspace=TENANT, user_id=PEOPLE["ann"][0], reply=ask)

    card = card_of(wire.dm("ann")[-1])
    picker = next(item for item in card["body"] if item["type"] == "Input.ChoiceSet")
    assert picker["id"] == "person" and picker["isRequired"] is True and picker["label"] == "Hand it to"
    assert picker["choices.data"] == {"type": "Data.Query", "dataset": "ownerbot.people"}
    assert card["version"] == "1.5"
    assert any(item["type"] == "Input.Text" and item["id"] == "input" for item in card["body"])

    # Typing "pa" in the picker: Teams asks the bot (an application/search invoke), the roster answers.
    search = wire._base("ann", tenant=TENANT, channel=False, kind="invoke")
    search.update(
        name="application/search",
        value={"queryText": "pa", "queryOptions": {"skip": 0, "top": 15}, "dataset": "ownerbot.people"},
    )
    response = await wire.post(search)
    assert response.status == 200
    answer = await response.json()
    assert answer["type"] == "application/vnd.microsoft.search.searchResponse"
    assert answer["value"]["results"] == [{"title": "Kim Park", "value": PEOPLE["kim"][0]}]

    # A too-short reason with a pick: the same card comes back with the picker, so nothing is lost.
    send = next(a for a in card["actions"] if a["title"] == "Send")["data"]
    await wire.submit("ann", {**send, "person": PEOPLE["kim"][0], "input": "busy"}, reply_to="picker-card")
    again = card_of(wire.connector.sent("PUT", "/activities/picker-card")[-1].body)
    assert any(item["type"] == "Input.ChoiceSet" for item in again["body"])
