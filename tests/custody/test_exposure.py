"""Exposure-aware load and rebalance suggestions: `field`, the lead's digest and the dashboard's query, on SQLite
and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import select

from db.models import DeliveryStatus, HandoffRequest, NudgeDelivery, NudgeEpisode, NudgeKind, SubjectKind
from handlers import ActionId
from reports.exposure import exposure_report, exposure_table

from ..nudges.conftest import Desk, at, fields


async def _after_hours_nudge(desk: Desk, user: str, ticket: int) -> None:
    """A nudge sent to `user` at 06:00 UTC today (outside 09:00-17:00): scene-setting, as the sweeper records it."""
    member = await desk.member(user)
    sent = desk.clock.now.replace(hour=6)
    async with desk.db.sessions() as session, session.begin():
        episode = NudgeEpisode(
            workspace_id=member.workspace_id,
            subject_kind=SubjectKind.TICKET,
            subject_id=ticket,
            kind=NudgeKind.STALE,
            episode=f"late-{ticket}",
            ticket_id=ticket,
            detail="stale",
            started_at=sent,
            snoozes=0,
        )
        session.add(episode)
        await session.flush()
        session.add(
            NudgeDelivery(
                workspace_id=member.workspace_id,
                episode_id=episode.id,
                kind=NudgeKind.STALE,
                step=0,
                round=0,
                recipient_id=member.id,
                audience="owner",
                urgent=True,
                status=DeliveryStatus.SENT,
                planned_at=sent,
                due_at=sent,
                sent_at=sent,
                attempts=1,
            )
        )


async def _scene(desk: Desk) -> dict[str, int]:
    tickets = {}
    for index in range(3):
        for n in range(3):
            tickets[f"Busy {index}/{n}"] = await desk.ticket(f"Busy {index}", owner="U1", subject=f"Issue {n}")
    tickets["Calm"] = await desk.ticket("Calm", owner="U3")
    await desk.customer("Idle", owner="U2")
    for text in ("You useless idiot, answer me", "I know where you live", "This is a disaster, I am furious"):
        reply = await desk.chat.say("U_LEAD", f"ticket note #{tickets['Busy 0/0']} --from-customer {text}")
        assert not reply.error, reply.text
    await _after_hours_nudge(desk, "U1", tickets["Busy 1/0"])
    await _after_hours_nudge(desk, "U1", tickets["Busy 1/1"])
    return tickets


async def test_field_shows_exposure_flags_the_outlier_and_suggests_moves(desk: Desk) -> None:
    at(desk.clock, 25, 10)
    tickets = await _scene(desk)
    assert not (await desk.chat.say("U1", "workhours 09:00-17:00 --tz Europe/Berlin")).error
    assert not (await desk.chat.say("U3", "workhours 09:00-17:00 --tz Europe/Berlin")).error

    report = await desk.chat.say("U_LEAD", "field")
    assert not report.error, report.text
    got = dict(report.fields)
    u1 = got["Exposure (7 days): u1"]
    assert "9 open" in u1 and "1 negative and 2 abusive customer message(s)" in u1 and "2 after-hours" in u1
    assert "⚠ exposure far above the team median" in u1
    assert "⚠" not in got["Exposure (7 days): u3"]
    assert "step-out from the abusive customer" in got["Suggestion for u1"]
    moves = {label: value for label, value in report.fields if label.startswith("Move ")}
    # u3 works in u1's time zone, so u3 is preferred over the idle u2 while it stays near the median; then u2.
    # Two moves of three open tickets bring u1 from 9 to 3, under the median (1) + 3.
    assert list(moves) == ["Move Busy 0 → u3 (same time zone)", "Move Busy 1 → u2"]
    first = next(iter(moves))
    command = moves[first].strip("`")
    assert command.startswith('handoff "Busy ') and "<@U3> rebalancing: u1 carries 9 open tickets" in command

    offered = await desk.chat.say("U_LEAD", command)  # one command away, exactly as suggested
    assert not offered.error and offered.notices[0].to_user_id == "U3", offered.text

    button = next(b for b in report.buttons if b.action_id == ActionId.REBALANCE and "u2" in b.label)
    assert (await desk.chat.click("U1", button.action_id, button.value)).error  # leads only
    asked = await desk.chat.click("U_LEAD", button.action_id, button.value)
    assert asked.prompt is not None and asked.prompt.submit_action_id == ActionId.HANDOFF_REASON
    done = await desk.chat.click(
        "U_LEAD", asked.prompt.submit_action_id, asked.prompt.value, "u1 is swamped, u2 is free"
    )
    assert not done.error and done.notices[0].to_user_id == "U2", done.text
    async with desk.db.sessions() as session:
        reasons = list((await session.execute(select(HandoffRequest.reason).order_by(HandoffRequest.id))).scalars())
    assert reasons[-1] == "u1 is swamped, u2 is free"
    assert tickets  # the owner is unchanged until the receivers accept: handoffs stay warm


async def test_the_dashboard_query_counts_what_the_keeper_absorbed(desk: Desk) -> None:
    at(desk.clock, 25, 10)
    tickets = await _scene(desk)
    desk.clock.advance(minutes=5)
    asked = await desk.chat.say("U1", "stepout Busy 0 abusive for days --to <@U3>")
    assert not asked.error, asked.text
    assert not (await desk.chat.click("U3", *_accept(asked))).error
    desk.clock.advance(minutes=5)
    noted = await desk.chat.say("U_LEAD", f"ticket note #{tickets['Busy 0/1']} --from-customer shut up, you moron")
    assert not noted.error
    async with desk.db.sessions() as session:
        workspace_id = (await desk.member("U1")).workspace_id
        report = await exposure_report(
            session, workspace_id=workspace_id, now=desk.clock.now, policy=desk.sweeper.policy
        )
    by_name = {a.name: a for a in report.agents}
    assert (by_name["u1"].abusive_notes, by_name["u1"].step_outs) == (2, 1)
    assert (by_name["u3"].abusive_notes, by_name["u3"].step_outs) == (1, 0)
    columns, rows = exposure_table(report)
    assert columns[0] == "Agent" and [r[0] for r in rows] == ["u1", "u2", "u3"]
    assert rows[0][4] == "2" and rows[0][-1] == "far above the team median"

    # A week later the window has moved on: nothing absorbed any more.
    desk.clock.advance(days=8)
    async with desk.db.sessions() as session:
        later = await exposure_report(
            session, workspace_id=workspace_id, now=desk.clock.now, policy=desk.sweeper.policy
        )
    assert all(a.abusive_notes == 0 and a.negative_notes == 0 for a in later.agents)


def _accept(reply) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    button = next(b for b in reply.notices[0].reply.buttons if b.label == "Accept")
    return button.action_id, button.value


async def test_the_leads_digest_names_the_outlier_with_a_suggestion(desk: Desk) -> None:
    for line in (
        "team create Support",
        "team add Support U_LEAD --lead yes",
        "team add Support U1",
        "team add Support U2",
        "team add Support U3",
    ):
        assert not (await desk.chat.say("U_ADMIN", line)).error, line
    at(desk.clock, 24, 10)
    await _scene(desk)
    at(desk.clock, 25, 8, 59)
    await desk.tick()
    await desk.tick(minutes=1)  # 09:00: the lead's day starts
    [digest] = [r for r in desk.got("U_LEAD") if "digest for Wednesday" in r["reply"]["text"]]
    got = fields(digest)
    assert "⚠ exposure far above the team median" in got["Exposure (7 days): u1"]
    assert "Exposure (7 days): u3" not in got  # only the outliers, in the digest
    assert "a break with cover" in got["Suggestion for u1"]
