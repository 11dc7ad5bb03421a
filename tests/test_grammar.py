"""The declared command grammar on a real database: customers and people resolved in the workspace, quoting,
durations, missing arguments, help and sub-verbs built from the declarations."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from db.models import Customer, HandoffRequest, Member, ServiceLevel, Tier, Workspace
from handlers.grammar import CustomerRef, Duration, Flag, MemberRef, Scope, parse_words
from handlers.parsing import lex, parse_duration
from handlers.registry import COMMANDS, Command, Context
from handlers.replies import Reply
from ownership.errors import DomainError, InvalidInput

from .conftest import Chat, Database


def shown(value: object) -> object:
    if isinstance(value, Customer):
        return value.name
    if isinstance(value, Member):
        return value.platform_user_id
    return value


async def parse(db: Database, text: str) -> dict[str, object]:
    """What the command's function receives for `text`: customers as their names, people as platform ids."""
    words = lex(text)
    form, rest = COMMANDS[words[0].text].pick(words[1:])
    async with db.sessions() as session:
        workspace = (await session.execute(select(Workspace).where(Workspace.external_id == "T1"))).scalar_one()
        values = await parse_words(Scope(session, workspace.id), form.args, form.options, rest, form.usage)
        return {name: shown(value) for name, value in values.items()}


async def refused(db: Database, text: str) -> str:
    with pytest.raises(DomainError) as caught:
        await parse(db, text)
    return caught.value.message


async def count(db: Database, model: type) -> int:
    async with db.sessions() as session:
        return await session.scalar(select(func.count()).select_from(model)) or 0


@pytest.fixture
async def desk(chat: Chat) -> Chat:
    """Customers with spaces, external ids and non-Latin names; a person whose display name has spaces."""
    for added in (
        'customer add "Acme Corp" premium --external-id CRM-42',
        "customer add Acme",
        "customer add Globex Labs",
        'customer add "Müller GmbH" basic',
        "customer add 株式会社テスト",
        "customer add 🚀 Rocket",
    ):
        reply = await chat.say("U_LEAD", added)
        assert not reply.error, (added, reply.text)
    await chat.say("U4", "mine", name="Sam Jones")
    return chat


async def test_an_unquoted_customer_name_ends_where_the_person_begins(desk: Chat, db: Database) -> None:
    expected = {"customer": "Acme Corp", "to": "U4", "reason": "she speaks German with their CTO"}
    for person in ("@sam jones", "<@U4|Sam Jones>", "<@U4>", "Sam Jones", '"Sam Jones"', "@U4"):
        assert await parse(db, f"handoff Acme Corp {person} she speaks German with their CTO") == expected
    # the longest run of words naming a customer wins: "Acme" is a customer too
    assert (await parse(db, "handoff acme u2 they asked for someone new"))["customer"] == "Acme"
    assert (await parse(db, "handoff acme corp u2 they asked for someone new"))["customer"] == "Acme Corp"
    assert await parse(db, "reassign globex labs sam jones balancing the load") == {
        "customer": "Globex Labs",
        "to": "U4",
        "reason": "balancing the load",
    }


async def test_a_quoted_name_is_one_argument_and_never_merges_with_the_next_word(desk: Chat, db: Database) -> None:
    assert await parse(db, 'customer rename "Acme" Corp Two') == {"customer": "Acme", "new_name": "Corp Two"}
    assert await parse(db, 'whoowns "acme corp"') == {"customer": "Acme Corp"}
    leftover = await refused(db, 'claim "Acme" Corp')
    assert "`Corp`" in leftover and "Usage: `claim <customer>`" in leftover
    quoted = await refused(db, 'handoff "Acme Corp premium" u2 a perfectly good reason')
    assert 'I don\'t know a customer called "Acme Corp premium"' in quoted


async def test_customers_by_external_id_in_any_case_and_names_in_any_script(desk: Chat, db: Database) -> None:
    for typed, name in [
        ("crm-42", "Acme Corp"),
        ("CRM-42", "Acme Corp"),
        ("ACME CORP", "Acme Corp"),
        ("müller gmbh", "Müller GmbH"),
        ("MÜLLER GMBH", "Müller GmbH"),
        ("株式会社テスト", "株式会社テスト"),
        ("🚀 rocket", "🚀 Rocket"),
    ]:
        assert await parse(db, f"whoowns {typed}") == {"customer": name}, typed
    assert (await parse(db, "idea 株式会社テスト 請求書をPDFで"))["text"] == "請求書をPDFで"
    assert (await parse(db, "handoff müller gmbh @u2 spricht Deutsch mit dem CTO"))["customer"] == ("Müller GmbH")
    offer = await desk.say("U_LEAD", "reassign 🚀 Rocket <@U4|Sam Jones> launch needs a night owl")
    assert not offer.error and offer.text == "🚀 Rocket now belongs to <@U4>.", offer.text


async def test_did_you_mean_on_a_typo_and_on_a_prefix(desk: Chat, db: Database) -> None:
    async def said(text: str) -> str:
        reply = await desk.say("U1", text)
        assert reply.error, text
        return reply.text

    assert 'I don\'t know a customer called "acme crop". Did you mean "Acme Corp"?' in await said("claim acme crop")
    assert 'called "globex". Did you mean "Globex Labs"?' in await said("handoff globex @u2 a perfectly good reason")
    assert 'called "glob". Did you mean "Globex Labs"?' in await said("claim glob")
    assert 'called "mül". Did you mean "Müller GmbH"?' in await said("whoowns mül")
    both = await said("whoowns ac")
    assert 'called "ac". Did you mean "Acme" or "Acme Corp"?' in both
    nothing = await said("idea nobody-here great idea")
    assert nothing == 'I don\'t know a customer called "nobody-here". See `customers` for the list.'
    assert await count(db, HandoffRequest) == 0


@pytest.mark.parametrize(("typed", "span"), [("90m", 90), ("2h", 120), ("3d", 3 * 1440), ("2w", 14 * 1440)])
def test_durations(typed: str, span: int) -> None:
    assert parse_duration(typed) == timedelta(minutes=span)
    assert parse_duration(typed.upper()) == timedelta(minutes=span)


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("5x", '"5x" is not a duration. Write it like 90m, 2h, 3d or 2w.'),
        ("-1h", '"-1h" is not a duration. Write it like 90m, 2h, 3d or 2w.'),
        ("2", '"2" needs a unit: 2m, 2h, 2d or 2w.'),
        ("hours", '"hours" is not a duration'),
        ("", "is not a duration"),
    ],
)
def test_anything_else_is_not_a_duration(typed: str, said: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_duration(typed)
    assert said in caught.value.message


async def test_a_bad_duration_is_refused_clearly_and_changes_nothing(desk: Chat, db: Database) -> None:
    for typed, said in [
        ("sla premium update 5x", '"5x" is not a duration'),
        ("sla premium update 2 hours", '"2" needs a unit: 2m, 2h, 2d or 2w.'),
        ("sla premium update -1h", '"-1h" is not a duration'),
        ("ideas --since 2 weeks", '"2" needs a unit'),
        ("ideas --since 5x", '"5x" is not a period'),
        ("wow acme a card --deadline 1 day", '"1" needs a unit'),
    ]:
        reply = await desk.say("U_ADMIN", typed)
        assert reply.error and said in reply.text, (typed, reply.text)
    async with db.sessions() as session:
        changed = await session.execute(select(ServiceLevel).where(ServiceLevel.workspace_id.is_not(None)))
        assert changed.first() is None
    assert (await desk.say("U_ADMIN", "sla premium update 90m")).text == "premium update is now 1h30m."


async def test_a_missing_argument_is_asked_for_by_name_with_the_usage(desk: Chat) -> None:
    for typed, said in [
        ("claim", "Which customer? Usage: `claim <customer>`"),
        ("handoff acme corp", "Who? Mention them (@name). Usage: `handoff <customer> <@member> <reason…>`"),
        ("handoff @u2 they know the billing system", "Which customer? Usage: `handoff"),
        ("release acme", "Why? Add a reason (at least 10 characters). Usage: `release <customer> <reason…>`"),
        ("role u2", "Which role: agent, lead or admin? Usage: `role <@member> <agent|lead|admin>`"),
        ("ticket note 1", "Add the text. Usage: `ticket note <id> <text…> [--from-customer]`"),
        ("wow vote", "Which gesture? Give its number. Usage: `wow vote <id> <yes|no>`"),
        ("sla premium", "Which target: first-response, update, resolution, lead-after, admins-after or clock?"),
    ]:
        reply = await desk.say("U1", typed)
        assert reply.error and said in reply.text, (typed, reply.text)
    ask = await desk.say("U1", "handoff acme corp @u2")  # a handoff asks for its reason with a form
    assert ask.prompt is not None and ask.prompt.min_length == 10 and "needs a reason" in ask.text


async def test_customer_add_takes_a_bare_tier_word_after_the_name(desk: Chat, db: Database) -> None:
    for typed in ("customer add Initech Labs basic", 'customer add "Basic Instinct"', "customer add Hooli"):
        assert not (await desk.say("U_LEAD", typed)).error, typed
    async with db.sessions() as session:
        rows = {c.name: c.tier for c in (await session.execute(select(Customer))).scalars()}
    assert rows["Acme Corp"] == Tier.PREMIUM and rows["Müller GmbH"] == Tier.BASIC
    assert rows["Initech Labs"] == Tier.BASIC and rows["Basic Instinct"] == Tier.STANDARD
    assert rows["Hooli"] == Tier.STANDARD and "Acme Corp premium" not in rows


async def test_help_and_every_usage_line_come_from_the_declarations(desk: Chat) -> None:
    listed = dict((await desk.say("U1", "help")).fields)
    assert set(listed) == {f"`{c.usage}`" for c in COMMANDS.values()}
    handoff_usage = "`handoff <customer> <@member> <reason…> · handoff withdraw <customer>`"
    assert listed[handoff_usage].startswith("Offer a customer to someone")
    [ticket] = [usage for usage in listed if usage.startswith("`ticket ")]
    assert ticket.startswith("`ticket open <customer> <subject…> [--priority urgent|high|normal|low] · ")
    assert " · ticket pending|reopen|resolve <id> · " in ticket
    one = await desk.say("U1", "help handoff")
    assert one.text.startswith("`handoff`: Offer a customer to someone")
    assert (
        "`handoff <customer> <@member> <reason…>`",
        "Offer a customer to someone, with a reason; you own it until they accept.",
    ) in one.fields
    assert ("`handoff withdraw <customer>`", "Take back a handoff you offered (leads: anyone's).") in one.fields
    assert ("reason…", "at least 10 characters") in one.fields
    assert ("@member", "a mention, @name, or their full display name") in one.fields
    wow = await desk.say("U1", "help wow")
    assert ("`wow vote <id> <yes|no>`", "Vote; change it until the deadline.") in wow.fields
    assert (await desk.say("U1", "help wow vote")).text.startswith("`wow vote <id> <yes|no>`")


async def test_sub_verbs_are_declared_and_a_bad_one_lists_them(desk: Chat) -> None:
    assert list(COMMANDS["wow"].verbs) == [
        "vote",
        "comment",
        "delivered",
        "assign",
        "list",
        "history",
        "budget",
        "settings",
        "confirm",
        "decline",
        "withdraw",
    ]
    assert COMMANDS["wow"].form is not None  # `wow <customer> <gesture…>` when no verb matches
    assert list(COMMANDS["ticket"].verbs) == ["open", "note", "pending", "reopen", "resolve", "mood", "csat", "show"]
    bad = await desk.say("U1", "ticket frob 1")
    assert bad.error and bad.text.startswith(
        '"frob" is not one of `ticket`\'s verbs: open, note, pending, reopen, resolve, mood, csat or show.'
    )
    bare = await desk.say("U1", "team")
    assert bare.error and "`team` needs one of: create, add or list." in bare.text
    wow = await desk.say("U1", "wow")
    assert wow.error and wow.text.startswith("`wow` needs its arguments or one of: vote, comment, delivered, ")
    assert "Usage: `wow <customer> <gesture…> [--cost 15] [--deadline 24h] · wow vote <id> <yes|no> · " in wow.text


async def test_a_command_declared_here_is_parsed_helped_and_run(desk: Chat, monkeypatch: pytest.MonkeyPatch) -> None:
    echo = Command("echo", summary="Say it back.", group="Test")
    monkeypatch.setitem(COMMANDS, "echo", echo)
    heard: list[dict[str, object]] = []

    @echo.verb("to", MemberRef(), CustomerRef(), Duration("wait"), Flag("loud"), summary="Pass it on.")
    async def echo_to(ctx: Context, **values: object) -> Reply:
        heard.append({k: getattr(v, "display_name", getattr(v, "name", v)) for k, v in values.items()})
        return Reply("ok")

    assert echo.usage == "echo to <@member> <customer> <wait> [--loud]"
    assert not (await desk.say("U1", "echo to Sam Jones Globex Labs 2w --loud")).error
    assert heard == [{"member": "Sam Jones", "customer": "Globex Labs", "wait": timedelta(weeks=2), "loud": True}]
    assert (await desk.say("U1", "help echo to")).text == "`echo to <@member> <customer> <wait> [--loud]`\nPass it on."
    missing = await desk.say("U1", "echo to @u2 acme")
    assert (
        missing.text
        == "How long? Write it like 90m, 2h, 3d or 2w. Usage: `echo to <@member> <customer> <wait> [--loud]`"
    )
