"""One parser for every platform: quotes, apostrophes, options, and friendly errors."""

from __future__ import annotations

import pytest

from handlers.parsing import lex
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
def test_lex(text: str, tokens: list[str]) -> None:
    assert [word.text for word in lex(text)] == tokens


def test_open_quote_and_huge_text_are_friendly_errors() -> None:
    with pytest.raises(InvalidInput, match="quote was left open"):
        lex('claim "Acme')
    with pytest.raises(InvalidInput, match="10000 characters"):
        lex("x" * 10_000)


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
