"""Text from anywhere (a chat, a button, a form, a webhook, a header) made safe to store and to show.

- `storable`: NUL and unpaired surrogates are dropped. PostgreSQL refuses NUL in text, and a lone surrogate can't
  be encoded as UTF-8 at all: either one reaching the database was an unhandled error before.
- `invisible_in`: the characters that print as nothing (bidi controls, zero-width spaces and joiners, other format
  and control characters, Hangul fillers): a name holding one could look exactly like another name.
"""

from __future__ import annotations

import re
import unicodedata

UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")  # letters that print as nothing


def storable(text: str) -> str:
    return UNSTORABLE.sub("", text) if UNSTORABLE.search(text) else text


def invisible_in(text: str) -> list[str]:
    """Invisible characters in `text` (ordinary spaces excepted), as `U+202E` codes, each once."""
    found: list[str] = []
    for ch in text:
        if ch in " " or not (unicodedata.category(ch) in ("Cf", "Cc", "Co", "Cn", "Zl", "Zp") or ch in BLANK_LETTERS):
            continue
        code = f"U+{ord(ch):04X}"
        if code not in found:
            found.append(code)
    return found


def without_invisible(text: str) -> str:
    """`text` with every invisible character removed (for names that arrive from machines, like a helpdesk's)."""
    return "".join(ch for ch in text if not invisible_in(ch))
