"""Property-based fuzzing of the command grammar and the button handlers, on SQLite and PostgreSQL.

Hypothesis types commands (every registered command and verb, followed by words drawn from real names, ids at
and past the columns' range, non-ASCII digits, durations, options, NUL, lone surrogates, bidi and zero-width
characters, and arbitrary text) and presses every registered button with arbitrary values and typed answers,
against a small seeded workspace. For each one:
- the answer is never "Something went wrong" (an unhandled error);
- a refusal writes nothing: every table's rows are the same before and after (tests/snapshot.py).

Budget: `OWNERBOT_FUZZ_EXAMPLES` examples per database (default 150, what CI runs); for a long local run:
    OWNERBOT_FUZZ_EXAMPLES=10000 .venv/bin/python -m pytest tests/test_fuzz.py -p no:xdist -q
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from db.models import Customer, CustomerIdea, Platform
from handlers import ActionInvocation, Handlers, Invocation, Reply
from handlers.dispatch import SORRY
from handlers.registry import ACTIONS, COMMANDS
from nudges.settings import NudgeSettings

from .conftest import Clock, Database, open_database
from .snapshot import changed_tables, snapshot, tables_of

EXAMPLES = int(os.environ.get("OWNERBOT_FUZZ_EXAMPLES", "150"))
pytestmark = pytest.mark.timeout(max(120, EXAMPLES // 2))

PEOPLE = {"U_ADMIN": "Ada Admin", "U_LEAD": "Lee Lead", "U1": "Uma", "U2": "Sam Jones"}
NUMBERS = [
    "1", "#1", "2", "0", "-1", "+1", "1.5", "1e3", "0x10", " 1", "01", "007",
    "2147483647", "2147483648", "#2147483648", "9223372036854775807", "9223372036854775808",
    "99999999999999999999", "1" * 40, "²", "①", "¹²", "٣", "１２", "𝟙", "Ⅻ", "½",
]  # fmt: skip
DURATIONS = ["1h", "90m", "2d", "2w", "1h30m", "0m", "²h", "①h", "٣h", "999999w", "999999d", "99999h", "h", "1x", "1"]
NAMES = [
    "acme", "Acme Corp", '"Acme Corp"', "ACME-42", "globex", "Ünïcode GmbH", "東京商事", "<@U2|Sam Jones>",
    "<@U2>", "<@U1|uma>", "@Sam", "Sam Jones", "@nobody", "U2", "none", '"', "<@", "<@U2|Sam", "team", "support",
]  # fmt: skip
WORDS = [
    "yes", "no", "on", "off", "premium", "standard", "basic", "urgent", "high", "low", "agent", "lead", "admin",
    "morning", "happy", "unhappy", "good", "bad", "quorum", "anonymous", "hide-results", "currency", "EUR",
    "first-response", "update", "resolution", "escalation", "--cost", "--deadline", "--priority", "--team",
    "--since", "--days", "--tz", "--from-customer", "--lead", "--channel", "--bogus", "--", "mon-fri", "Europe/Berlin",
    "Mars/Olympus", "09:00-17:00", "25:00-26:00", "15", "15.50", "15,50", "€15", "1000000000", "add", "create",
    "list", "show", "vote", "tier", "rename", "note", "pending", "reopen", "resolve", "mood", "csat", "open",
]  # fmt: skip
NASTY = [
    "\x00", "a\x00b", "\ud800", "x\udfffy", "\u202e", "Acme\u202eCorp", "\u200b", "Ac\u200bme", "\u2066", "\ufeff",
    "\u00a0", "\u3000", "🎉", "👩\u200d👩\u200d👧", "\r\n", "\t", "'", "\\", "`", "*bold*", "<!channel>", "<https://x|y>",
    "&lt;", "%s", "{0}", "' OR 1=1 --", "Ω" * 300,
]  # fmt: skip

token = st.one_of(
    st.sampled_from(NUMBERS),
    st.sampled_from(DURATIONS),
    st.sampled_from(NAMES),
    st.sampled_from(WORDS),
    st.sampled_from(NASTY),
    st.text(max_size=12),
    st.builds(lambda n: f"{n}h", st.integers(min_value=-5, max_value=10**12)),
    st.builds(str, st.integers(min_value=-(2**63), max_value=2**70)),
)
HEADS = sorted(set(COMMANDS) | {f"{n} {v}" for n, c in COMMANDS.items() for v in c.verbs} | {"help"})


@st.composite
def typed_commands(draw: st.DrawFn) -> tuple[str, str]:
    head = draw(st.sampled_from(HEADS))
    words = draw(st.lists(token, max_size=6))
    joiner = draw(st.sampled_from([" ", " ", "  ", "\u00a0"]))
    user = draw(st.sampled_from(list(PEOPLE)))
    return user, joiner.join([head, *words])


@st.composite
def clicks(draw: st.DrawFn) -> tuple[str, str, str, str | None]:
    action_id = draw(st.sampled_from(sorted(ACTIONS)))
    value = draw(
        st.one_of(
            st.sampled_from(NUMBERS),
            st.builds(lambda a, b: f"{a}:{b}", st.sampled_from(NUMBERS), st.sampled_from(NUMBERS + DURATIONS)),
            st.sampled_from(NASTY),
            st.text(max_size=20),
        )
    )
    typed = draw(st.one_of(st.none(), st.sampled_from(NAMES + NASTY), st.text(max_size=40)))
    user = draw(st.sampled_from(list(PEOPLE)))
    return user, action_id, value, typed


@dataclass
class World:
    handlers: Handlers
    db: Database

    async def say(self, user: str, text: str) -> Reply:
        return await self.handlers.command(
            Invocation(Platform.CONSOLE, "T1", user, text, user_name=PEOPLE[user], channel_id="C1")
        )

    async def click(self, user: str, action_id: str, value: str, typed: str | None) -> Reply:
        return await self.handlers.action(
            ActionInvocation(
                Platform.CONSOLE, "T1", user, action_id, value, typed, user_name=PEOPLE[user], channel_id="C1"
            )
        )


async def seed(world: World) -> None:
    for user in PEOPLE:
        await world.say(user, "mine")
    for line in (
        ("U_ADMIN", "role <@U_LEAD> lead"),
        ("U_ADMIN", "team create support --channel C-WOW"),
        ("U_ADMIN", "team add support <@U_LEAD> --lead yes"),
        ("U_ADMIN", "team add support <@U1>"),
        ("U_ADMIN", "team add support <@U2>"),
        ("U_LEAD", "customer add Acme Corp premium"),
        ("U_LEAD", "customer add Globex"),
        ("U_LEAD", "customer add Ünïcode GmbH basic"),
        ("U1", "claim acme corp"),
        ("U1", "ticket open acme corp The export fails --priority urgent"),
        ("U1", "handoff acme corp <@U2|Sam Jones> she speaks German with their CTO"),
        ("U1", "wow acme corp a handwritten card --cost 15"),
        ("U1", "idea acme corp dark mode please"),
    ):
        reply = await world.say(*line)
        assert not reply.error, (line, reply.text)


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_no_input_breaks_the_grammar_or_the_buttons(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    with asyncio.Runner() as runner:
        db = runner.run(open_database(kind, request, tmp_path))
        handlers = Handlers(
            db.sessions,
            admins=frozenset({"U_ADMIN"}),
            clock=Clock(),
            policy=NudgeSettings(),
        )
        world = World(handlers, db)
        runner.run(seed(world))
        tables = runner.run(tables_of(db.engine))
        seen = {"refused": 0, "done": 0}

        async def one(send: object) -> None:
            before = await snapshot(db.engine, tables)
            reply = await send  # type: ignore[misc]
            assert SORRY not in reply.text, f"unhandled error: {reply.text}"
            if reply.error:
                seen["refused"] += 1
                after = await snapshot(db.engine, tables)
                assert changed_tables(before, after) == [], f"a refusal wrote: {reply.text}"
            else:
                seen["done"] += 1

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=bool(os.environ.get("CI")),
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        )
        @given(st.one_of(typed_commands().map(lambda c: ("say", c)), clicks().map(lambda c: ("click", c))))
        def check(case: tuple[str, tuple[object, ...]]) -> None:
            how, args = case
            send = world.say(*args) if how == "say" else world.click(*args)  # type: ignore[arg-type]
            try:
                runner.run(one(send))
            except AssertionError as failure:  # seen at once in a long run, before hypothesis shrinks it
                print(f"\n{kind}: {case!r}: {str(failure)[:300]}", flush=True)
                raise

        try:
            check()
        finally:
            runner.run(db.engine.dispose())
        print(f"\n{kind}: {sum(seen.values())} examples, {seen['refused']} refusals, {seen['done']} done")


KNOWN = [
    ("U1", "ticket show ²", "is not a ticket number"),
    ("U1", "ticket show ①", "is not a ticket number"),
    ("U1", "ticket show ١٢", "is not a ticket number"),
    ("U1", "ticket show 2147483648", "There is no ticket #2147483648"),
    ("U1", "ticket note 99999999999999999999 hello", "There is no ticket #"),
    ("U1", "wow vote ① yes", "is not a gesture number"),
    ("U1", "wow vote 2147483648 yes", "There is no gesture #2147483648"),
    ("U_ADMIN", "sla premium first-response ²h", "is not a"),
    ("U_LEAD", "wow settings quorum ²", "A quorum (a number of votes) is a whole number"),
    ("U_LEAD", "wow settings quorum 99999999999", "between 1 and 100"),
    ("U1", "snooze 2147483648 1h", "out of date"),
    ("U1", "wow acme corp a card --deadline 999999w", "longer than I can count"),
    ("U1", "ideas --since 999999w", "longer than I can count"),
    ("U1", "nudges 99999999999999999999", "There is no ticket #"),
    ("U_LEAD", "customer add Acme\u202eCorp", "invisible characters (U+202E)"),
    ("U_LEAD", "customer add Ac\u200bme Corp", "invisible characters (U+200B)"),
    ("U_LEAD", "customer rename globex Glo\u2066bex", "invisible characters (U+2066)"),
]


@pytest.mark.parametrize(("user", "text", "answer"), KNOWN, ids=[k[1] for k in KNOWN])
async def test_what_broke_it_before_is_a_friendly_refusal(
    db: Database, tmp_path: Path, user: str, text: str, answer: str
) -> None:
    world = World(Handlers(db.sessions, admins=frozenset({"U_ADMIN"}), clock=Clock(), policy=NudgeSettings()), db)
    await seed(world)
    before = await snapshot(db.engine)
    reply = await world.say(user, text)
    assert reply.error and answer in reply.text, reply.text
    assert changed_tables(before, await snapshot(db.engine)) == []


@pytest.mark.parametrize(
    ("action", "value"),
    [("ownerbot.handoff.accept", "¹²"), ("ownerbot.handoff.accept", "2147483648"), ("ownerbot.nudge.done", "١"),
     ("ownerbot.nudge.snooze", "2147483648:1h"), ("ownerbot.gesture.vote_yes", "①"),
     ("ownerbot.gesture.vote_yes", "9" * 30), ("ownerbot.nudge.handoff_submit", "2147483648"),
     ("ownerbot.handoff.reason", "2147483648:" + "1" * 40), ("ownerbot.handoff.reason", "1:²")],
)  # fmt: skip
async def test_a_button_with_a_value_that_is_no_id_is_out_of_date(db: Database, action: str, value: str) -> None:
    world = World(Handlers(db.sessions, admins=frozenset({"U_ADMIN"}), clock=Clock(), policy=NudgeSettings()), db)
    await seed(world)
    before = await snapshot(db.engine)
    reply = await world.click("U2", action, value, "<@U1> because they know the customer best")
    assert reply.error and SORRY not in reply.text, reply.text
    assert any(word in reply.text for word in ("out of date", "no longer exists", "no gesture")), reply.text
    assert changed_tables(before, await snapshot(db.engine)) == []


async def test_nul_and_lone_surrogates_never_reach_the_database(db: Database) -> None:
    world = World(Handlers(db.sessions, admins=frozenset({"U_ADMIN"}), clock=Clock(), policy=NudgeSettings()), db)
    await seed(world)
    added = await world.say("U_LEAD", 'customer add "a\x00b\ud800c"')
    idea = await world.say("U1", "idea acme corp hello\x00world \udfff!")
    assert not added.error and not idea.error, (added.text, idea.text)
    async with db.sessions() as session:
        names = set((await session.execute(select(Customer.name))).scalars())
        ideas = set((await session.execute(select(CustomerIdea.text))).scalars())
    assert "abc" in names and "helloworld !" in ideas
