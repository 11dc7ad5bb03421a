"""Frugal wow: propose a gesture for a customer, vote, close at the deadline, keep the budget, deliver.

Every state change is a conditional UPDATE (`... WHERE status = 'open'`) or a unique-keyed upsert, so double
clicks, platform retries, two devices and two replicas resolve to exactly one outcome on SQLite and
PostgreSQL. Each change also writes the messages it owes (see `outbox`) in the same transaction.

Decisions where the issue was silent:
- Money is integer cents in the team's currency (`wow settings currency EUR`, default USD).
- The budget month is the calendar month in UTC; an approval counts in the month it was approved.
- A proposal belongs to the customer's team, else to the proposer's team; only that team's members (and its
  lead) vote. The proposer's own vote is not implied: they vote like everyone else.
- Quorum = votes cast (yes + no); approved needs more yes than no (a tie is rejected).
- `anonymous`, `hide_results` and `quorum` are copied onto the proposal when it is made, so changing a setting
  never reveals the names on a running vote.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import (
    Customer,
    GestureComment,
    GestureProposal,
    GestureSettings,
    GestureStatus,
    GestureVote,
    Member,
    Platform,
    Role,
    Team,
    VoteChoice,
)
from db.upsert import insert_or_ignore
from ownership.errors import Conflict, InvalidInput, NotFound, NotPermitted
from ownership.people import find_team, is_lead

from . import outbox
from .amounts import format_amount

MIN_GESTURE = 3
MAX_GESTURE = 300
MAX_COMMENT = 280
MAX_COST_CENTS = 1_000_000  # 10,000.00: "frugal"
MAX_BUDGET_CENTS = 100_000_000  # 1,000,000.00 a month
DEFAULT_DEADLINE = timedelta(hours=24)
MIN_DEADLINE = timedelta(minutes=10)
MAX_DEADLINE = timedelta(days=14)
DEFAULT_QUORUM = 3
MAX_QUORUM = 100
REMIND_AFTER = timedelta(days=1)  # the first delivery reminder, then at most one a day
CLOSED = (
    GestureStatus.APPROVED,
    GestureStatus.DELIVERED,
    GestureStatus.REJECTED,
    GestureStatus.NO_QUORUM,
    GestureStatus.DECLINED,
    GestureStatus.AWAITING_LEAD,
)
SPENT = (GestureStatus.APPROVED, GestureStatus.DELIVERED)


# ---- teams, settings and budget -------------------------------------------------------------------------------


async def settings_for(session: AsyncSession, *, team_id: int, now: datetime) -> GestureSettings:
    """The team's gesture settings, created with the defaults on first use (race-free)."""
    values = {
        "team_id": team_id,
        "anonymous": False,
        "hide_results": False,
        "quorum": DEFAULT_QUORUM,
        "monthly_budget_cents": None,
        "currency": "USD",
        "updated_at": now,
    }
    await insert_or_ignore(session, GestureSettings, values, ["team_id"])
    found = await session.get(GestureSettings, team_id, populate_existing=True)
    assert found is not None
    return found


async def actor_team(session: AsyncSession, *, actor: Member, name: str | None) -> Team:
    """The team a lead means: the one named, else their own."""
    if name:
        return await find_team(session, workspace_id=actor.workspace_id, name=name)
    if actor.team_id is None:
        raise InvalidInput("You are not in a team; name it with `--team <team>`, or ask an admin to `team add` you.")
    team = await session.get(Team, actor.team_id)
    assert team is not None
    return team


def leads_team(actor: Member, team: Team) -> bool:
    """Admins lead every team; a lead leads the team they are in (or were named lead of)."""
    return actor.role == Role.ADMIN or (is_lead(actor) and (actor.team_id == team.id or team.lead_id == actor.id))


def require_team_lead(actor: Member, team: Team, what: str) -> None:
    if not leads_team(actor, team):
        raise NotPermitted(f"Only {team.name}'s lead (or an admin) can {what}.")


def month_bounds(now: datetime) -> tuple[datetime, datetime]:
    start = now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(month=start.month + 1)
    return start, end


async def budget_used(session: AsyncSession, *, team_id: int, now: datetime) -> int:
    """Cents approved this calendar month (UTC), delivered or not."""
    start, end = month_bounds(now)
    total = await session.scalar(
        select(func.coalesce(func.sum(GestureProposal.cost_cents), 0)).where(
            GestureProposal.team_id == team_id,
            GestureProposal.status.in_(SPENT),
            GestureProposal.approved_at >= start,
            GestureProposal.approved_at < end,
        )
    )
    return int(total or 0)


def exceeds(budget_cents: int | None, used_cents: int, cost_cents: int) -> bool:
    return budget_cents is not None and cost_cents > 0 and used_cents + cost_cents > budget_cents


async def set_budget(session: AsyncSession, *, actor: Member, team: Team, cents: int, now: datetime) -> GestureSettings:
    require_team_lead(actor, team, "set its gesture budget")
    if cents < 0 or cents > MAX_BUDGET_CENTS:
        raise InvalidInput(f"A monthly budget is between 0 and {format_amount(MAX_BUDGET_CENTS)}.")
    settings = await settings_for(session, team_id=team.id, now=now)
    settings.monthly_budget_cents = cents
    settings.updated_at = now
    settings.updated_by_id = actor.id
    await session.flush()
    return settings


async def change_settings(
    session: AsyncSession,
    *,
    actor: Member,
    team: Team,
    anonymous: bool | None = None,
    hide_results: bool | None = None,
    quorum: int | None = None,
    currency: str | None = None,
    now: datetime,
) -> GestureSettings:
    require_team_lead(actor, team, "change its gesture settings")
    settings = await settings_for(session, team_id=team.id, now=now)
    if quorum is not None:
        if not 1 <= quorum <= MAX_QUORUM:
            raise InvalidInput(f"A quorum is between 1 and {MAX_QUORUM} votes.")
        settings.quorum = quorum
    if currency is not None:
        code = currency.strip().upper()
        if len(code) != 3 or not code.isalpha():
            raise InvalidInput(f'"{currency[:20]}" is not a currency code: use three letters, like EUR or USD.')
        settings.currency = code
    if anonymous is not None:
        settings.anonymous = anonymous
    if hide_results is not None:
        settings.hide_results = hide_results
    settings.updated_at = now
    settings.updated_by_id = actor.id
    await session.flush()
    return settings


# ---- proposing ----------------------------------------------------------------------------------------------


def clean_gesture(text: str) -> str:
    gesture = " ".join(text.split())
    if len(gesture) < MIN_GESTURE:
        raise InvalidInput("Describe the gesture, e.g. `wow acme handwritten thank-you card --cost 15`.")
    if len(gesture) > MAX_GESTURE:
        raise InvalidInput(f"That gesture is {len(gesture)} characters long; keep it under {MAX_GESTURE}.")
    return gesture


async def proposal_team(session: AsyncSession, *, actor: Member, customer: Customer) -> Team:
    team_id = customer.team_id or actor.team_id
    if team_id is None:
        raise InvalidInput(
            f"Neither {customer.name} nor you belong to a team, so nobody could vote. "
            "Ask an admin to add you: `team add <team> @you`."
        )
    team = await session.get(Team, team_id)
    assert team is not None
    return team


@dataclass(frozen=True)
class Proposed:
    proposal: GestureProposal
    team: Team
    over_budget: bool
    used_cents: int
    budget_cents: int | None


async def propose(
    session: AsyncSession,
    *,
    actor: Member,
    customer: Customer,
    gesture: str,
    cost_cents: int = 0,
    deadline_in: timedelta = DEFAULT_DEADLINE,
    platform: Platform,
    channel_id: str | None,
    now: datetime,
) -> Proposed:
    text = clean_gesture(gesture)
    if not 0 <= cost_cents <= MAX_COST_CENTS:
        raise InvalidInput(f"A gesture costs between 0 and {format_amount(MAX_COST_CENTS)}.")
    if not MIN_DEADLINE <= deadline_in <= MAX_DEADLINE:
        raise InvalidInput("Pick a deadline between 10 minutes and 14 days from now.")
    team = await proposal_team(session, actor=actor, customer=customer)
    channel = team.channel_id or channel_id
    if not channel:
        raise InvalidInput(f"Team {team.name} has no channel to vote in; an admin sets one with `team create`.")
    settings = await settings_for(session, team_id=team.id, now=now)
    used = await budget_used(session, team_id=team.id, now=now)
    over = exceeds(settings.monthly_budget_cents, used, cost_cents)
    proposal = GestureProposal(
        workspace_id=customer.workspace_id,
        team_id=team.id,
        customer_id=customer.id,
        proposer_id=actor.id,
        gesture=text,
        cost_cents=cost_cents,
        currency=settings.currency,
        status=GestureStatus.OPEN,
        anonymous=settings.anonymous,
        hide_results=settings.hide_results,
        quorum=settings.quorum,
        over_budget_when_proposed=over,
        platform=platform,
        channel_id=channel,
        created_at=now,
        deadline=now + deadline_in,
        yes_votes=0,
        no_votes=0,
    )
    session.add(proposal)
    await session.flush()
    await outbox.enqueue(session, proposal=proposal, purpose=outbox.CARD, target=channel, direct=False, now=now)
    return Proposed(proposal, team, over, used, settings.monthly_budget_cents)


def parse_proposal_id(text: str) -> int:
    raw = text.strip().lstrip("#")
    if not raw.isdigit() or len(raw) > 12:
        raise InvalidInput(f'"{text[:40]}" is not a gesture number; see `wow list`.')
    return int(raw)


async def get_proposal(
    session: AsyncSession, *, workspace_id: int, proposal_id: int, for_update: bool = False
) -> GestureProposal:
    query = select(GestureProposal).where(
        GestureProposal.id == proposal_id, GestureProposal.workspace_id == workspace_id
    )
    if for_update:
        query = query.with_for_update()
    found = (await session.execute(query.execution_options(populate_existing=True))).scalar_one_or_none()
    if found is None:
        raise NotFound(f"There is no gesture #{proposal_id}; see `wow list`.")
    return found


# ---- voting -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VoteResult:
    proposal: GestureProposal
    choice: VoteChoice
    previous: VoteChoice | None

    @property
    def changed(self) -> bool:
        return self.previous != self.choice


async def may_vote(session: AsyncSession, *, actor: Member, proposal: GestureProposal) -> Team:
    team = await session.get(Team, proposal.team_id)
    assert team is not None
    if actor.team_id != team.id and team.lead_id != actor.id:
        raise NotPermitted(f"Only members of {team.name} vote on its gestures.")
    return team


async def cast_vote(
    session: AsyncSession,
    *,
    actor: Member,
    workspace_id: int,
    proposal_id: int,
    choice: VoteChoice,
    platform: Platform,
    now: datetime,
) -> VoteResult:
    """One vote per member, changeable until the deadline. The proposal row is locked while voting, so a
    vote and the close never cross; the (proposal, member) key makes repeats update, never add."""
    proposal = await get_proposal(session, workspace_id=workspace_id, proposal_id=proposal_id, for_update=True)
    if proposal.status != GestureStatus.OPEN or now >= proposal.deadline:
        raise Conflict(f"Voting on gesture #{proposal.id} has closed.")
    await may_vote(session, actor=actor, proposal=proposal)
    previous = await session.scalar(
        select(GestureVote.choice).where(GestureVote.proposal_id == proposal.id, GestureVote.member_id == actor.id)
    )
    if previous == choice:
        return VoteResult(proposal, choice, previous)
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(GestureVote).values(
        proposal_id=proposal.id, member_id=actor.id, choice=choice, platform=platform, voted_at=now, changed_at=now
    )
    statement = statement.on_conflict_do_update(
        index_elements=["proposal_id", "member_id"],
        set_={
            "choice": statement.excluded.choice,
            "platform": statement.excluded.platform,
            "changed_at": statement.excluded.changed_at,
        },
    )
    await session.execute(statement)
    await outbox.touch(session, proposal_id=proposal.id)
    return VoteResult(proposal, choice, previous)


@dataclass(frozen=True)
class Tally:
    yes: int
    no: int
    yes_names: list[str] = field(default_factory=list)  # empty when the vote is anonymous
    no_names: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.yes + self.no


async def tally(session: AsyncSession, *, proposal: GestureProposal) -> Tally:
    rows = (
        await session.execute(
            select(GestureVote.choice, Member.display_name)
            .join(Member, Member.id == GestureVote.member_id)
            .where(GestureVote.proposal_id == proposal.id)
            .order_by(GestureVote.voted_at, GestureVote.id)
        )
    ).all()
    yes = [name for choice, name in rows if choice == VoteChoice.YES]
    no = [name for choice, name in rows if choice == VoteChoice.NO]
    if proposal.anonymous:
        return Tally(len(yes), len(no))
    return Tally(len(yes), len(no), yes, no)


# ---- closing ------------------------------------------------------------------------------------------------


async def due_proposals(session: AsyncSession, *, now: datetime, limit: int = 100) -> list[int]:
    return list(
        (
            await session.execute(
                select(GestureProposal.id)
                .where(GestureProposal.status == GestureStatus.OPEN, GestureProposal.deadline <= now)
                .order_by(GestureProposal.deadline)
                .limit(limit)
            )
        ).scalars()
    )


def outcome(yes: int, no: int, quorum: int) -> GestureStatus:
    if yes + no < quorum:
        return GestureStatus.NO_QUORUM
    return GestureStatus.APPROVED if yes > no else GestureStatus.REJECTED


async def close_proposal(session: AsyncSession, *, proposal_id: int, now: datetime) -> GestureProposal | None:
    """Close one proposal whose deadline has passed. Exactly one caller gets it back; everyone else (a second
    replica, a retry after a restart) gets None and writes nothing."""
    query = (
        select(GestureProposal)
        .where(
            GestureProposal.id == proposal_id,
            GestureProposal.status == GestureStatus.OPEN,
            GestureProposal.deadline <= now,
        )
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )
    proposal = (await session.execute(query)).scalar_one_or_none()
    if proposal is None:
        return None
    counts = await tally(session, proposal=proposal)
    status = outcome(counts.yes, counts.no, proposal.quorum)
    values: dict[str, object] = {"status": status, "closed_at": now, "yes_votes": counts.yes, "no_votes": counts.no}
    customer = await session.get(Customer, proposal.customer_id)
    assert customer is not None
    if status == GestureStatus.APPROVED:
        settings = await settings_for(session, team_id=proposal.team_id, now=now)
        used = await budget_used(session, team_id=proposal.team_id, now=now)
        values["assignee_id"] = customer.owner_id or proposal.proposer_id
        if exceeds(settings.monthly_budget_cents, used, proposal.cost_cents):
            values["status"] = GestureStatus.AWAITING_LEAD
        else:
            values["approved_at"] = now
    result = await session.execute(
        update(GestureProposal)
        .where(GestureProposal.id == proposal.id, GestureProposal.status == GestureStatus.OPEN)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return None
    await session.refresh(proposal)
    await outbox.touch(session, proposal_id=proposal.id)
    await outbox.enqueue(
        session, proposal=proposal, purpose=outbox.OUTCOME, target=proposal.channel_id, direct=False, now=now
    )
    told = {await _user_id(session, proposal.proposer_id), await _user_id(session, customer.owner_id)}
    for user_id in sorted(uid for uid in told if uid):
        await outbox.enqueue(
            session, proposal=proposal, purpose=outbox.OUTCOME_DM, target=user_id, direct=True, now=now
        )
    if proposal.status == GestureStatus.AWAITING_LEAD:
        team = await session.get(Team, proposal.team_id)
        lead_user = await _user_id(session, team.lead_id if team else None)
        if lead_user:
            await outbox.enqueue(
                session, proposal=proposal, purpose=outbox.LEAD_CONFIRM, target=lead_user, direct=True, now=now
            )
    return proposal


async def _user_id(session: AsyncSession, member_id: int | None) -> str | None:
    if member_id is None:
        return None
    return await session.scalar(select(Member.platform_user_id).where(Member.id == member_id))


async def decide_over_budget(
    session: AsyncSession, *, actor: Member, workspace_id: int, proposal_id: int, confirm: bool, now: datetime
) -> GestureProposal:
    """A lead confirms (it is approved and counts against this month's budget) or declines an approval that
    would exceed the budget. Only one decision wins."""
    proposal = await get_proposal(session, workspace_id=workspace_id, proposal_id=proposal_id)
    team = await session.get(Team, proposal.team_id)
    assert team is not None
    require_team_lead(actor, team, "confirm gestures over its budget")
    values: dict[str, object] = {"decided_by_id": actor.id}
    if confirm:
        values |= {"status": GestureStatus.APPROVED, "approved_at": now}
    else:
        values |= {"status": GestureStatus.DECLINED}
    result = await session.execute(
        update(GestureProposal)
        .where(GestureProposal.id == proposal.id, GestureProposal.status == GestureStatus.AWAITING_LEAD)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    await session.refresh(proposal)
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(f"Gesture #{proposal.id} is not waiting for a lead; it is {proposal.status.value}.")
    # The proposer and the owner were told it waits for a lead: tell them what became of it.
    await outbox.touch(session, proposal_id=proposal.id, purposes=(outbox.CARD, outbox.OUTCOME, outbox.OUTCOME_DM))
    return proposal


# ---- delivery -----------------------------------------------------------------------------------------------


async def mark_delivered(
    session: AsyncSession, *, actor: Member, workspace_id: int, proposal_id: int, now: datetime
) -> GestureProposal:
    proposal = await get_proposal(session, workspace_id=workspace_id, proposal_id=proposal_id)
    if proposal.status == GestureStatus.DELIVERED:
        raise Conflict(f"Gesture #{proposal.id} was already marked delivered.")
    if proposal.status != GestureStatus.APPROVED:
        raise Conflict(f"Gesture #{proposal.id} is {proposal.status.value}, not approved, so it can't be delivered.")
    team = await session.get(Team, proposal.team_id)
    customer = await session.get(Customer, proposal.customer_id)
    assert team is not None and customer is not None
    if actor.id not in (proposal.assignee_id, proposal.proposer_id, customer.owner_id) and not leads_team(actor, team):
        raise NotPermitted(f"Only the assignee, the proposer, {customer.name}'s owner or a lead can mark it delivered.")
    result = await session.execute(
        update(GestureProposal)
        .where(GestureProposal.id == proposal.id, GestureProposal.status == GestureStatus.APPROVED)
        .values(status=GestureStatus.DELIVERED, delivered_at=now, delivered_by_id=actor.id)
        .execution_options(synchronize_session=False)
    )
    await session.refresh(proposal)
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(f"Gesture #{proposal.id} was already marked delivered.")
    await outbox.touch(session, proposal_id=proposal.id)
    return proposal


async def assign(
    session: AsyncSession, *, actor: Member, workspace_id: int, proposal_id: int, to: Member, now: datetime
) -> GestureProposal:
    proposal = await get_proposal(session, workspace_id=workspace_id, proposal_id=proposal_id, for_update=True)
    if proposal.status not in (GestureStatus.APPROVED, GestureStatus.AWAITING_LEAD):
        raise Conflict(f"Gesture #{proposal.id} is {proposal.status.value}; only approved gestures get an assignee.")
    team = await session.get(Team, proposal.team_id)
    assert team is not None
    if actor.id not in (proposal.assignee_id, proposal.proposer_id) and not leads_team(actor, team):
        raise NotPermitted("Only the assignee, the proposer or a lead can hand a gesture to someone else.")
    if to.workspace_id != proposal.workspace_id:
        raise NotFound("That person is not in this workspace.")
    if to.id == proposal.assignee_id:
        return proposal
    proposal.assignee_id = to.id
    await session.flush()
    await outbox.touch(session, proposal_id=proposal.id)
    await outbox.enqueue(
        session, proposal=proposal, purpose=outbox.ASSIGNED, target=to.platform_user_id, direct=True, now=now
    )
    return proposal


async def add_comment(
    session: AsyncSession,
    *,
    actor: Member,
    workspace_id: int,
    proposal_id: int,
    body: str | None,
    platform: Platform,
    now: datetime,
) -> GestureComment:
    proposal = await get_proposal(session, workspace_id=workspace_id, proposal_id=proposal_id)
    text = " ".join((body or "").split())
    if not text:
        raise InvalidInput("Write a short comment, e.g. `wow comment 12 they loved the last one`.")
    if len(text) > MAX_COMMENT:
        raise InvalidInput(f"That comment is {len(text)} characters long; keep it under {MAX_COMMENT}.")
    await may_vote(session, actor=actor, proposal=proposal)
    comment = GestureComment(proposal_id=proposal.id, member_id=actor.id, body=text, platform=platform, at=now)
    session.add(comment)
    await session.flush()
    await outbox.touch(session, proposal_id=proposal.id)
    return comment


def at_work(member: Member, now: datetime) -> bool:
    """Inside the member's working hours on a working day, in their time zone."""
    try:
        zone = ZoneInfo(member.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    local = now.astimezone(zone)
    if member.away or str(local.isoweekday()) not in member.work_days:
        return False
    try:
        start, end = time.fromisoformat(member.work_start), time.fromisoformat(member.work_end)
    except ValueError:
        return True
    return start <= local.time() < end


async def enqueue_delivery_reminders(session: AsyncSession, *, now: datetime) -> int:
    """Owe each assignee of an approved, undelivered gesture (approved a day ago or more) one reminder per
    local day, during their working hours. The (proposal, reminder-<date>, user) key makes it once a day."""
    rows = (
        await session.execute(
            select(GestureProposal, Member)
            .join(Member, Member.id == GestureProposal.assignee_id)
            .where(GestureProposal.status == GestureStatus.APPROVED, GestureProposal.approved_at <= now - REMIND_AFTER)
            .order_by(GestureProposal.id)
        )
    ).all()
    created = 0
    for proposal, member in rows:
        if not at_work(member, now):
            continue
        try:
            local_day = now.astimezone(ZoneInfo(member.time_zone)).date()
        except (ZoneInfoNotFoundError, ValueError):
            local_day = now.date()
        if await outbox.enqueue(
            session,
            proposal=proposal,
            purpose=f"{outbox.REMINDER}{local_day.isoformat()}",
            target=member.platform_user_id,
            direct=True,
            now=now,
        ):
            created += 1
    return created


# ---- reading ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProposalView:
    """Everything a card or a message about one proposal shows."""

    proposal: GestureProposal
    customer_name: str
    team_name: str
    proposer_name: str
    assignee_name: str | None
    assignee_user_id: str | None
    decided_by_name: str | None
    delivered_by_name: str | None
    tally: Tally
    comments: list[tuple[str, str]]
    budget_cents: int | None
    used_cents: int

    @property
    def over_budget(self) -> bool:
        if self.proposal.status == GestureStatus.AWAITING_LEAD:
            return True
        if self.proposal.status == GestureStatus.OPEN:
            return exceeds(self.budget_cents, self.used_cents, self.proposal.cost_cents)
        return False


async def _name(session: AsyncSession, member_id: int | None) -> str | None:
    if member_id is None:
        return None
    return await session.scalar(select(Member.display_name).where(Member.id == member_id))


async def view_proposal(session: AsyncSession, *, proposal_id: int, now: datetime, comments: int = 3) -> ProposalView:
    proposal = await session.get(GestureProposal, proposal_id, populate_existing=True)
    if proposal is None:
        raise NotFound(f"There is no gesture #{proposal_id}.")
    customer = await session.get(Customer, proposal.customer_id)
    team = await session.get(Team, proposal.team_id)
    assert customer is not None and team is not None
    settings = await settings_for(session, team_id=team.id, now=now)
    recent = (
        await session.execute(
            select(Member.display_name, GestureComment.body)
            .join(Member, Member.id == GestureComment.member_id)
            .where(GestureComment.proposal_id == proposal.id)
            .order_by(GestureComment.at.desc(), GestureComment.id.desc())
            .limit(comments)
        )
    ).all()
    return ProposalView(
        proposal=proposal,
        customer_name=customer.name,
        team_name=team.name,
        proposer_name=await _name(session, proposal.proposer_id) or "someone",
        assignee_name=await _name(session, proposal.assignee_id),
        assignee_user_id=await _user_id(session, proposal.assignee_id),
        decided_by_name=await _name(session, proposal.decided_by_id),
        delivered_by_name=await _name(session, proposal.delivered_by_id),
        tally=await tally(session, proposal=proposal),
        comments=[(name, body) for name, body in reversed(recent)],
        budget_cents=settings.monthly_budget_cents,
        used_cents=await budget_used(session, team_id=team.id, now=now),
    )


@dataclass(frozen=True)
class GestureLine:
    proposal: GestureProposal
    customer_name: str
    assignee_name: str | None


async def list_gestures(
    session: AsyncSession, *, workspace_id: int, team_id: int | None, statuses: tuple[GestureStatus, ...]
) -> list[GestureLine]:
    assignee = Member
    query = (
        select(GestureProposal, Customer.name, assignee.display_name)
        .join(Customer, Customer.id == GestureProposal.customer_id)
        .outerjoin(assignee, assignee.id == GestureProposal.assignee_id)
        .where(GestureProposal.workspace_id == workspace_id, GestureProposal.status.in_(statuses))
        .order_by(GestureProposal.id)
    )
    if team_id is not None:
        query = query.where(GestureProposal.team_id == team_id)
    return [GestureLine(p, c, a) for p, c, a in (await session.execute(query)).all()]


async def customer_gestures(session: AsyncSession, *, customer: Customer, limit: int = 50) -> list[GestureLine]:
    rows = await session.execute(
        select(GestureProposal, Member.display_name)
        .outerjoin(Member, Member.id == GestureProposal.assignee_id)
        .where(GestureProposal.customer_id == customer.id)
        .order_by(GestureProposal.created_at.desc(), GestureProposal.id.desc())
        .limit(limit)
    )
    return [GestureLine(p, customer.name, a) for p, a in rows.all()]


@dataclass(frozen=True)
class PendingDelivery:
    proposal_id: int
    team_id: int
    customer_name: str
    gesture: str
    cost_cents: int
    currency: str
    approved_at: datetime
    assignee_id: int | None
    assignee_name: str | None
    assignee_user_id: str | None


async def pending_deliveries(
    session: AsyncSession,
    *,
    workspace_id: int | None = None,
    team_id: int | None = None,
    assignee_id: int | None = None,
) -> list[PendingDelivery]:
    """Approved gestures not yet delivered: for someone's nudges (`assignee_id`) or a lead's digest (`team_id`)."""
    query = (
        select(GestureProposal, Customer.name, Member.display_name, Member.platform_user_id)
        .join(Customer, Customer.id == GestureProposal.customer_id)
        .outerjoin(Member, Member.id == GestureProposal.assignee_id)
        .where(GestureProposal.status == GestureStatus.APPROVED)
        .order_by(GestureProposal.approved_at, GestureProposal.id)
    )
    if workspace_id is not None:
        query = query.where(GestureProposal.workspace_id == workspace_id)
    if team_id is not None:
        query = query.where(GestureProposal.team_id == team_id)
    if assignee_id is not None:
        query = query.where(GestureProposal.assignee_id == assignee_id)
    return [
        PendingDelivery(
            p.id,
            p.team_id,
            customer,
            p.gesture,
            p.cost_cents,
            p.currency,
            p.approved_at or p.closed_at or p.created_at,
            p.assignee_id,
            name,
            user_id,
        )
        for p, customer, name, user_id in (await session.execute(query)).all()
    ]


@dataclass(frozen=True)
class GestureDigest:
    """For the leads' digest: the month's budget, what was spent, and what still waits for delivery."""

    team_id: int
    team_name: str
    currency: str
    budget_cents: int | None
    used_cents: int
    open_proposals: int
    awaiting_lead: list[int]
    pending: list[PendingDelivery]

    @property
    def remaining_cents(self) -> int | None:
        return None if self.budget_cents is None else self.budget_cents - self.used_cents


async def gesture_digest(session: AsyncSession, *, team_id: int, now: datetime) -> GestureDigest:
    team = await session.get(Team, team_id)
    if team is None:
        raise NotFound("That team no longer exists.")
    settings = await settings_for(session, team_id=team_id, now=now)
    open_count = await session.scalar(
        select(func.count())
        .select_from(GestureProposal)
        .where(GestureProposal.team_id == team_id, GestureProposal.status == GestureStatus.OPEN)
    )
    awaiting = list(
        (
            await session.execute(
                select(GestureProposal.id)
                .where(GestureProposal.team_id == team_id, GestureProposal.status == GestureStatus.AWAITING_LEAD)
                .order_by(GestureProposal.id)
            )
        ).scalars()
    )
    return GestureDigest(
        team_id=team_id,
        team_name=team.name,
        currency=settings.currency,
        budget_cents=settings.monthly_budget_cents,
        used_cents=await budget_used(session, team_id=team_id, now=now),
        open_proposals=int(open_count or 0),
        awaiting_lead=awaiting,
        pending=await pending_deliveries(session, team_id=team_id),
    )
