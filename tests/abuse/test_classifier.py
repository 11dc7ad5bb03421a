"""The abusive-text classifier on its labelled examples (tests/abuse/*.txt) and on the tricks people use."""

from __future__ import annotations

import pytest

from bench.abuse import examples, measure
from ownership.abuse import classify_abuse, normalise


def test_labelled_set_is_large_and_varied_enough() -> None:
    abusive, fair = examples("abusive.txt"), examples("fair.txt")
    assert len(abusive) >= 100 and len(fair) >= 100
    assert len(set(abusive)) == len(abusive) and len(set(fair)) == len(fair)
    assert not set(abusive) & set(fair)


def test_goals_recall_at_least_90_percent_and_false_positives_at_most_5_percent() -> None:
    score = measure()
    assert score.recall >= 0.9, score.missed
    assert score.false_positive_rate <= 0.05, score.false_alarms


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("Y0u are an 1d10t", "insult"),  # l33t
        ("you absolute idiooooot", "insult"),  # repeated letters
        ("you are s t u p i d", "insult"),  # spaced letters
        ("You're an i.d.i.o.t", "insult"),
        ("F*** you", "obscene"),  # masked
        ("you a$$hole", "insult"),
        ("I know where you live", "threat"),
        ("I hope you die", "harm"),
        ("send me a pic sweetheart", "harassment"),
        ("Ｙｏｕ ｉｄｉｏｔ", "insult"),  # full-width letters
    ],
)
def test_obfuscated_abuse_is_recognised(text: str, category: str) -> None:
    found = classify_abuse(text)
    assert found is not None and category in found.categories


@pytest.mark.parametrize(
    "text",
    [
        "This stupid app logs me out every five minutes.",
        "I feel like an idiot for trusting your migration tool.",
        "My boss is going to kill me if the payroll export fails again.",
        "I will come back to you tomorrow with the logs.",
        "We got error 500 and then 404!!!",
        "Sh!t, the export failed again.",
        "I'll contact my lawyer and cancel the contract.",
        "",
    ],
)
def test_angry_or_ordinary_text_is_not_abuse(text: str) -> None:
    assert classify_abuse(text) is None


def test_reason_names_categories_not_the_customers_words() -> None:
    found = classify_abuse("You stupid idiot, I know where you live")
    assert found is not None
    assert found.reason() == "abusive message (insult, threat)"
    assert "idiot" not in found.reason()


def test_normalise_keeps_numbers_and_ordinary_words() -> None:
    assert normalise("Order 1234 failed at 10:30, sorry!") == ["order", "1234", "failed", "at", "10", "30", "sorry"]
