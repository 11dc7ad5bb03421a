"""Exposure in chat: the lines `field` and the lead's digest add (reports.exposure builds the report), and the
button that turns a suggested move into a handoff with a reason the lead confirms or edits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from nudges.digest import Digest
from nudges.settings import NudgeSettings
from ownership.claims import MAX_REASON, MIN_REASON
from ownership.people import require_lead
from reports.exposure import Exposure, ExposureReport, exposure_report

from .registry import Context, action
from .replies import ActionId, ActionInvocation, Button, Prompt, Reply


def exposure_line(a: Exposure, median: float) -> str:
    parts = [
        f"{a.open_tickets} open",
        f"{a.overdue} overdue",
        f"{a.negative_notes} negative and {a.abusive_notes} abusive customer message(s)",
        f"{a.after_hours_nudges} after-hours nudge(s)",
        f"{a.step_outs} step-out(s)",
    ]
    flag = f"  ⚠ exposure far above the team median of {median:g}" if a.far_above_median else ""
    return ", ".join(parts) + flag


def suggestion(a: Exposure) -> str:
    """What a lead could do for someone who carries too much."""
    ideas = []
    if a.abusive_notes:
        ideas.append("a step-out from the abusive customer (`stepout <customer> <reason>`)")
    if a.load_far_above or a.overdue:
        ideas.append("rebalance their customers (the moves below)")
    if a.after_hours_nudges or a.far_above_median:
        ideas.append("a break with cover (`cover @them @colleague`)")
    return "; ".join(ideas) or "a word with them"


def exposure_fields(report: ExposureReport, *, everyone: bool = True) -> list[tuple[str, str]]:
    """`field`: a line per agent (everyone) or only the flagged ones (the digest), then the suggested moves."""
    fields: list[tuple[str, str]] = []
    shown = report.agents if everyone else [a for a in report.agents if a.far_above_median]
    for a in shown:
        fields.append((f"Exposure (7 days): {a.name}", exposure_line(a, report.median_score)))
    for a in report.flagged if everyone else shown:
        fields.append((f"Suggestion for {a.name}", suggestion(a)))
    for move in report.moves:
        zone = " (same time zone)" if move.same_time_zone else ""
        fields.append((f"Move {move.customer} → {move.to_name}{zone}", f"`{move.command}`"))
    return fields


def move_buttons(report: ExposureReport) -> list[Button]:
    return [
        Button(f"Hand {m.customer} to {m.to_name}", ActionId.REBALANCE, f"{m.customer_id}:{m.to_member_id}")
        for m in report.moves[:5]
    ]


@action(ActionId.REBALANCE)
async def rebalance_button(ctx: Context, act: ActionInvocation) -> Reply:
    """A suggested move, one click away: it asks for the reason, then it is an ordinary handoff offer."""
    require_lead(ctx.actor, "rebalance the team")
    return Reply(
        "Why this move? The receiver reads it with the offer.",
        prompt=Prompt(
            title="Rebalance",
            label="Reason for the handoff",
            submit_action_id=ActionId.HANDOFF_REASON,
            value=act.value,
            min_length=MIN_REASON,
            max_length=MAX_REASON,
            placeholder="rebalancing: they carry far more than the team median",
        ),
    )


async def with_exposure(
    session: AsyncSession, reply: Reply, digest: Digest, *, now: datetime, policy: NudgeSettings
) -> Reply:
    """The lead's digest: who in the team is far above the median on exposure, with a suggestion and moves."""
    ids = [a.member.id for a in digest.load]
    if not ids:
        return reply
    report = await exposure_report(
        session, workspace_id=digest.lead.workspace_id, now=now, policy=policy, member_ids=ids
    )
    reply.fields += exposure_fields(report, everyone=False)
    return reply
