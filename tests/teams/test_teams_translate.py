"""Turning Teams message text into a command: mentions, markup and entities."""

from __future__ import annotations

from botbuilder.schema import Activity

from bot.teams.translate import command_text, conversation_id_of, tenant_of, user_id_of


def activity(text: str, mentions: list[tuple[str, str]], **extra: object) -> Activity:
    entities = [
        {"type": "mention", "text": f"<at>{name}</at>", "mentioned": {"id": bf, "name": name}} for bf, name in mentions
    ]
    body = {
        "type": "message",
        "text": text,
        "recipient": {"id": "28:bot", "name": "ownerbot"},
        "from": {"id": "29:ann", "name": "Ann", "aadObjectId": "aad-ann"},
        "entities": entities,
        "conversation": {"id": "a:1", "tenantId": "T-conv"},
        "channelId": "msteams",
    }
    body.update(extra)
    return Activity().deserialize(body)


def test_bot_mention_is_removed_and_people_become_entra_ids() -> None:
    message = activity(
        '<at>ownerbot</at> handoff "Acme Corp" <at>Sam Jones</at> needs German &amp; French',
        [("28:bot", "ownerbot"), ("29:sam", "Sam Jones")],
    )
    assert command_text(message, {"29:sam": "aad-sam"}) == (
        'handoff "Acme Corp" <@aad-sam|Sam\u00a0Jones> needs German & French'
    )


def test_someone_never_seen_keeps_the_bot_framework_id_and_markup_is_dropped() -> None:
    message = activity(
        "<p><at>ownerbot</at>&nbsp;handoff acme <at>Zed</at> reason here</p>",
        [("28:bot", "ownerbot"), ("29:zed", "Zed")],
    )
    assert command_text(message, {}) == "handoff acme <@29:zed|Zed> reason here"


def test_ids_and_tenant() -> None:
    message = activity(
        "hi",
        [],
        channelData={"tenant": {"id": "T-data"}},
        conversation={"id": "19:c@thread.tacv2;messageid=17", "tenantId": "T-conv"},
    )
    assert tenant_of(message) == "T-data"  # channelData wins
    assert conversation_id_of(message) == "19:c@thread.tacv2"
    assert user_id_of(message.from_property) == "aad-ann"
    assert tenant_of(activity("hi", [], conversation={"id": "x"})) is None  # no tenant: refused upstream
    assert tenant_of(activity("hi", [], conversation={"id": "x"}, channelId="emulator")) == "emulator"


def test_control_characters_cannot_forge_mentions() -> None:
    message = activity("claim \x020\x03 acme", [])
    assert command_text(message, {}) == "claim 0 acme"
