"""Abusive customer text: insults aimed at a person, slurs, threats, wishing harm, harassment.

Not the same as negative tone (`ownership.tone`): "your app is garbage and I want a refund" is angry and fair;
"you useless idiot" is abuse. The words and patterns live in data files (`ownership/abuse_lists/`, described
in its README); this module only normalises text the way people dodge filters (l33t, repeated letters, spaced
or masked letters) and applies the lists. Pure and offline: the same text always gets the same answer.
Measured on the labelled examples in tests/abuse/ by bench/abuse.py.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

LISTS = Path(__file__).parent / "abuse_lists"
MAX_TEXT = 5000
LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i"})
YOU = frozenset({"you", "u", "ya", "youre", "ur", "yourself", "yall", "ye"})
# Between "you" and an insult, these words point the insult at a thing: "you sold me this stupid app".
THINGS = frozenset({"this", "that", "these", "those", "it", "its", "my", "our", "their", "his", "her"})
LINKING = frozenset({"is", "are", "was", "were", "be", "being", "hes", "shes", "theyre"})
WHAT_A = re.compile(r"\b(what|such) (a|an)( \w+)?$|\b(bunch|pack|band|lot) of( \w+)?$")
SPACED = re.compile(r"(?<![\w*])(?:[\w@$*](?:[.\-_]| (?! )))+[\w@$*](?![\w*])")
APOSTROPHES = re.compile(r"['’`´]")
TOKEN = re.compile(r"[a-z0-9@$!*]+")
RUNS = re.compile(r"(.)\1+")


@dataclass(frozen=True)
class Abuse:
    categories: tuple[str, ...]  # "slur", "insult", "threat", "harm", "obscene", "harassment"

    def reason(self) -> str:
        """Why, without repeating the customer's words."""
        return "abusive message (" + ", ".join(self.categories) + ")"


@dataclass(frozen=True)
class Lists:
    always: dict[tuple[str, ...], str]  # squeezed words -> category
    aimed: frozenset[tuple[str, ...]]
    people: frozenset[str]
    phrases: tuple[tuple[str, re.Pattern[str]], ...]
    vocabulary: tuple[str, ...]  # every word a mask (f***) may stand for
    masked: tuple[str, ...]  # the swear words people mask most (unmask.txt), tried first


def squeeze(word: str) -> str:
    return RUNS.sub(r"\1", word)


def _entries(name: str) -> list[str]:
    lines = (LISTS / name).read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def _key(entry: str) -> tuple[str, ...]:
    return tuple(squeeze(w) for w in entry.lower().split())


@lru_cache(maxsize=1)
def lists() -> Lists:
    always = {_key(e): "slur" for e in _entries("slurs.txt")}
    always.update({_key(e): "insult" for e in _entries("insults.txt")})
    aimed = frozenset(_key(e) for e in _entries("aimed.txt"))
    phrases = []
    for line in _entries("phrases.txt"):
        category, _, pattern = line.partition("\t")
        phrases.append((category.strip(), re.compile(pattern.strip())))
    words = {w for e in _entries("slurs.txt") + _entries("insults.txt") + _entries("aimed.txt") for w in e.split()}
    masked = tuple(_entries("unmask.txt"))
    words |= set(masked)
    return Lists(always, aimed, frozenset(_entries("people.txt")), tuple(phrases), tuple(sorted(words)), masked)


def _unmask(token: str, vocabulary: tuple[str, ...]) -> str:
    """`f***` / `sh*t` / `a**hole`: the listed word with those letters, when exactly one fits."""
    if "*" not in token or token.strip("*") == "":
        return token.replace("*", "")
    pattern = re.compile("".join("[a-z]" if ch == "*" else re.escape(ch) for ch in token))
    for words in (lists().masked, vocabulary):  # people mask swear words first: f*** is fuck, not fool
        fits = [w for w in words if pattern.fullmatch(w)]
        if len(fits) == 1:
            return fits[0]
    return token.replace("*", "")


def _join(spaced: str, vocabulary: tuple[str, ...]) -> str:
    """Spaced-out letters become one word when that word is a listed one (or "you"): `i d i o t`, not `u r a`."""
    joined = squeeze(re.sub(r"[.\-_ ]", "", spaced).translate(LEET))
    known = joined in YOU or any(squeeze(w) == joined for w in vocabulary)
    return re.sub(r"[.\-_ ]", "", spaced) if known else spaced


def normalise(text: str) -> list[str]:
    """The words of a message as the lists see them."""
    text = unicodedata.normalize("NFKC", (text or "")[:MAX_TEXT]).casefold()
    text = APOSTROPHES.sub("", text)
    vocabulary = lists().vocabulary
    text = SPACED.sub(lambda m: _join(m.group(0), vocabulary), text)  # s t u p i d, i.d.i.o.t
    words = []
    for raw in TOKEN.findall(text):
        raw = raw.strip("!")  # "idiot!!!": a ! inside a word is a letter (sh!t), at its ends it is punctuation
        if any(ch.isalpha() for ch in raw):
            raw = raw.translate(LEET)  # 1d10t, a$$hole; a bare number stays a number
        if raw:
            words.append(_unmask(raw, vocabulary))
    return words


def _match_at(keys: frozenset[tuple[str, ...]] | dict[tuple[str, ...], str], squeezed: list[str], i: int) -> int:
    """The length of the longest listed entry starting at word i (plural -s allowed on its last word), or 0."""
    for size in (3, 2, 1):
        part = squeezed[i : i + size]
        if len(part) < size:
            continue
        if tuple(part) in keys or (part[-1].endswith("s") and (*part[:-1], part[-1][:-1]) in keys):
            return size
    return 0


def _aimed_at_person(words: list[str], i: int, size: int, people: frozenset[str]) -> bool:
    before = words[max(0, i - 4) : i]
    for back, word in enumerate(reversed(before)):
        if word in YOU:
            between = before[len(before) - back :]
            return not any(w in THINGS for w in between)
    after = words[i + size : i + size + 2]
    if any(w in people for w in after):  # "useless agent", "stupid woman"
        return True
    head = " ".join(words[max(0, i - 3) : i])
    if WHAT_A.search(head):  # "what a clown", "bunch of idiots"
        return True
    for k in range(max(0, i - 6), i):  # "your agents are complete clowns", "agent Tom is an absolute muppet"
        if words[k] in people and any(w in LINKING for w in words[k + 1 : min(k + 3, i)]):
            return True
    return len(words) <= 3  # a bare outburst: "IDIOT", "stupid idiots"


def classify_abuse(text: str) -> Abuse | None:
    """Abuse found in a customer's message (its categories), or None."""
    found = lists()
    words = normalise(text)
    squeezed = [squeeze(w) for w in words]
    categories: set[str] = set()
    for i in range(len(words)):
        if size := _match_at(found.always, squeezed, i):
            key = tuple(squeezed[i : i + size])
            categories.add(found.always.get(key) or found.always.get((*key[:-1], key[-1][:-1]), "insult"))
        elif (size := _match_at(found.aimed, squeezed, i)) and _aimed_at_person(words, i, size, found.people):
            categories.add("insult")
    flat = " ".join(words)
    categories.update(category for category, pattern in found.phrases if pattern.search(flat))
    return Abuse(tuple(sorted(categories))) if categories else None
