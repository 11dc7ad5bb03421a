"""One parser for every platform: quotes, apostrophes, options, and friendly errors."""

from __future__ import annotations

import pytest

from handlers.parsing import lex, split_options, tokenize
from ownership.errors import InvalidInput


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ('claim "Acme Corp"', ["claim", "Acme Corp"]),
        ("claim \u201cAcme Corp\u201d", ["claim", "Acme Corp"]),  # Slack and Teams send smart quotes
        (
            "release acme the customer's CTO asked for Sam",
            ["release", "acme", "the", "customer's", "CTO", "asked", "for", "Sam"],
        ),
        (
            "handoff acme <@U123|sam> needs a C:\\path expert",
            ["handoff", "acme", "<@U123|sam>", "needs", "a", "C:\\path", "expert"],
        ),
        ("   ", []),
    ],
)
def test_tokenize(text: str, tokens: list[str]) -> None:
    assert tokenize(text) == tokens


def test_open_quote_and_huge_text_are_friendly_errors() -> None:
    with pytest.raises(InvalidInput, match="quote was left open"):
        tokenize('claim "Acme')
    with pytest.raises(InvalidInput, match="10000 characters"):
        tokenize("x" * 10_000)


def test_split_options() -> None:
    assert split_options(["Acme", "--tier", "premium", "Corp"], {"tier": "t"}) == (
        ["Acme", "Corp"],
        {"tier": "premium"},
    )
    with pytest.raises(InvalidInput, match="Unknown option --colour"):
        split_options(["--colour", "red"], {"tier": "t"})
    with pytest.raises(InvalidInput, match="--tier needs a value"):
        split_options(["Acme", "--tier"], {"tier": "t"})


def test_lex_remembers_quoting_and_keeps_a_mention_whole() -> None:
    words = lex('handoff "Acme Corp" <@U2|Sam Jones> @kim --from-customer “Müller GmbH”')
    assert [(w.text, w.quoted) for w in words] == [
        ("handoff", False),
        ("Acme Corp", True),
        ("<@U2|Sam Jones>", False),
        ("@kim", False),
        ("--from-customer", False),
        ("Müller GmbH", True),
    ]
    assert [w.is_mention for w in words] == [False, False, True, True, False, False]
    assert [w.is_option for w in words] == [False, False, False, False, True, False]
    assert not lex('"@kim"')[0].is_mention and not lex('"--tier"')[0].is_option  # quoted: just text
    assert lex("ticket note 1 \u00a0Sam\u00a0Jones")[3].text == "\u00a0Sam\u00a0Jones"  # a no-break space is no space
