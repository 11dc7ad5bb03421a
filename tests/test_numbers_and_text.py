"""The one number reader and the text guards, on their own (the fuzz test covers them through every command)."""

from __future__ import annotations

import pytest

from handlers.parsing import button_id, parse_duration
from ownership.errors import InvalidInput, NotFound
from ownership.numbers import MAX_ID, parse_count, parse_id, read_number
from ownership.people import clean_name
from ownership.text import invisible_in, storable, without_invisible


@pytest.mark.parametrize(
    "text", ["²", "①", "¹²", "١٢", "１２", "𝟙", "1_000", "+1", "-1", "1.0", "1e3", "0x1", "", "#", "##1"]
)
def test_only_ascii_digits_are_numbers(text: str) -> None:
    assert read_number(text) is None
    with pytest.raises(InvalidInput):
        parse_id(text, invalid="not a number", missing="none")


@pytest.mark.parametrize(("text", "value"), [("12", 12), ("#12", 12), (" 7 ", 7), ("007", 7), (str(MAX_ID), MAX_ID)])
def test_ids_as_typed(text: str, value: int) -> None:
    assert parse_id(text, invalid="x", missing="y") == value


@pytest.mark.parametrize("text", [str(MAX_ID + 1), "9" * 40, "0"])
def test_an_id_no_row_can_have_is_not_found(text: str) -> None:
    with pytest.raises(NotFound, match="none"):
        parse_id(text, invalid="x", missing="none")
    assert read_number("9" * 41) is None


def test_buttons_counts_and_durations_are_bounded() -> None:
    assert button_id("12:1h") == 12
    for stale in ("¹²", "12x:1h", str(MAX_ID + 1)):
        with pytest.raises((InvalidInput, NotFound), match="out of date"):
            button_id(stale)
    assert parse_count("3", what="A quorum", minimum=1, maximum=100) == 3
    with pytest.raises(InvalidInput, match="between 1 and 100"):
        parse_count("101", what="A quorum", minimum=1, maximum=100)
    with pytest.raises(InvalidInput, match="at most 520w"):
        parse_duration("521w")
    with pytest.raises(InvalidInput, match="is not a duration"):
        parse_duration("٣h")


def test_nul_and_lone_surrogates_are_dropped_and_pairs_kept() -> None:
    assert storable("a\x00b\ud800c\udfff") == "abc"
    assert storable("🎉 naïve 東京") == "🎉 naïve 東京"


@pytest.mark.parametrize(
    "trick", ["\u202e", "\u202d", "\u2066", "\u200b", "\u200c", "\u200d", "\ufeff", "\u2060", "\u3164"]
)
def test_names_with_invisible_characters_are_refused(trick: str) -> None:
    with pytest.raises(InvalidInput, match="invisible characters"):
        clean_name(f"Ac{trick}me", "customer")
    assert invisible_in(f"Ac{trick}me") and without_invisible(f"Ac{trick}me") == "Acme"


def test_ordinary_names_in_any_script_are_fine() -> None:
    for name in ("Acme Corp", "Ünïcode GmbH", "東京商事", "شركة", "Zoë & Co.", "🎉 Party Ltd"):
        assert clean_name(name, "customer") == name
