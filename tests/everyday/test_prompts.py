"""A prompt answered in the console: a command-like answer is refused, a short one is asked again, `cancel` ends."""

from __future__ import annotations

from sqlalchemy import func, select

from db.models import GestureComment, HandoffRequest

from ..conftest import Database
from .conftest import Console

START = ['customer add "Acme Corp" premium', "claim acme corp"]


async def handoffs(db: Database) -> list[str]:
    async with db.sessions() as session:
        return list((await session.execute(select(HandoffRequest.reason))).scalars())


async def test_retyping_the_command_is_refused_and_the_prompt_stays_open(console: Console, db: Database) -> None:
    await console("U2", "Sam", [])
    ana = await console(
        "U1",
        "Ana",
        [*START, 'handoff "Acme Corp" @Sam', 'handoff "Acme Corp" @Sam busy', "she speaks German with their CTO"],
    )
    assert "! that looks like a command; type the reason, or `cancel`" in ana
    assert ana.count("? Why should Sam take Acme Corp?") == 2  # asked again after the refusal
    assert "Handoff of Acme Corp to @Sam requested" in ana
    assert await handoffs(db) == ["she speaks German with their CTO"]


async def test_a_reason_that_starts_with_a_command_word_is_still_a_reason(console: Console, db: Database) -> None:
    await console("U2", "Sam", [])
    ana = await console("U1", "Ana", [*START, "handoff Acme Corp @Sam", "customer wants a German speaker"])
    assert "looks like a command" not in ana
    assert await handoffs(db) == ["customer wants a German speaker"]


async def test_other_command_shapes_are_refused(console: Console, db: Database) -> None:
    await console("U2", "Sam", [])
    ana = await console(
        "U1",
        "Ana",
        [*START, "handoff Acme Corp @Sam", "/accept 1", "wow history Globex", "cancel", "whoowns acme corp"],
    )
    assert ana.count("that looks like a command") == 2  # a sub-verb is a command even when its argument is wrong
    assert "Cancelled; nothing changed." in ana
    assert "Ana owns Acme Corp." in ana  # after `cancel`, the next line is a command again
    assert await handoffs(db) == []


async def test_a_short_answer_asks_again_instead_of_cancelling(console: Console, db: Database) -> None:
    await console("U2", "Sam", [])
    ana = await console("U1", "Ana", [*START, "handoff Acme Corp @Sam", "busy", "", "she knows the product best"])
    assert "That is 4 character(s); the reason needs at least 10." in ana
    assert "Nothing typed; the reason needs at least 10." in ana
    assert await handoffs(db) == ["she knows the product best"]


async def test_three_refusals_end_the_prompt_and_the_next_line_is_a_command(console: Console, db: Database) -> None:
    await console("U2", "Sam", [])
    ana = await console("U1", "Ana", [*START, "handoff Acme Corp @Sam", "no", "nope", "mine", "whoowns acme corp"])
    assert "! that looks like a command" in ana  # `mine`: the third refusal
    assert "Cancelled after 3 tries; nothing changed." in ana
    assert "Ana owns Acme Corp." in ana
    assert await handoffs(db) == []


async def test_a_comment_prompt_names_what_it_asks_for(console: Console, db: Database) -> None:
    await console("U2", "Sam", [])
    ana = await console(
        "U1",
        "Ana",
        [
            "team create Support",
            "team add Support @Ana",
            *START,
            "wow acme corp handwritten card",
            "/comment 1",
            "claim acme corp",
            "they loved the last one",
        ],
    )
    assert "that looks like a command; type the comment, or `cancel`" in ana
    async with db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(GestureComment)) == 1
