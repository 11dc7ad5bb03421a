"""One command parser for every platform: words, "quoted names", mentions, and friendly errors."""

from __future__ import annotations

import shlex

from ownership.errors import InvalidInput

MAX_COMMAND = 4000
SMART_QUOTES = str.maketrans({"\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'"})


def tokenize(text: str) -> list[str]:
    if len(text) > MAX_COMMAND:
        raise InvalidInput(f"That message is {len(text)} characters long; commands stay under {MAX_COMMAND}.")
    text = text.translate(SMART_QUOTES)
    lexer = shlex.shlex(text, posix=True)
    lexer.whitespace_split = True
    lexer.commenters = ""
    lexer.escape = ""  # a backslash is just a backslash in chat
    lexer.quotes = '"'  # only double quotes group words: "don't" and "team's" are plain text
    try:
        return list(lexer)
    except ValueError:
        raise InvalidInput('A quote was left open: close it, like `claim "Acme Corp"`.') from None


def split_options(
    tokens: list[str], known: dict[str, str], flags: dict[str, str] | None = None
) -> tuple[list[str], dict[str, str]]:
    """Pull `--name value` options out of tokens; `known` maps option names to their descriptions.

    `flags` are options without a value (`--from-customer`): when present, `options[name] == "yes"`.
    """
    flags = flags or {}
    positional: list[str] = []
    options: dict[str, str] = {}
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token.startswith("--") and len(token) > 2:
            name = token[2:]
            if name in flags:
                options[name] = "yes"
                index += 1
                continue
            if name not in known:
                every = ", ".join("--" + k for k in [*known, *flags])
                raise InvalidInput(f"Unknown option --{name}. Options: {every}.")
            if index + 1 >= len(tokens):
                raise InvalidInput(f"--{name} needs a value ({known[name]}).")
            options[name] = tokens[index + 1]
            index += 2
            continue
        positional.append(token)
        index += 1
    return positional, options
