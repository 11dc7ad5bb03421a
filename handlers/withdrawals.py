"""Taking an offer back: `handoff withdraw <customer>` and `wow withdraw <id>`.

Each is a sub-verb of its command (`handoff`, `wow`); whoever the offer concerned hears about it through
`Reply.notices`.
"""

from __future__ import annotations

from db.models import Customer, Member
from gestures.proposing import parse_proposal_id
from gestures.withdrawing import withdraw_proposal
from ownership import withdrawals

from .claims import member_user_id
from .gestures import WOW
from .grammar import CustomerRef, Number
from .registry import COMMANDS, Context
from .replies import Notice, Reply, person

HANDOFF = COMMANDS["handoff"]


@HANDOFF.verb("withdraw", CustomerRef(), summary="Take back a handoff you offered (leads: anyone's).")
async def withdraw_handoff(ctx: Context, *, customer: Customer) -> Reply:
    handoff = await withdrawals.withdraw_handoff(
        ctx.session, actor=ctx.actor, customer=customer, platform=ctx.platform, now=ctx.now
    )
    receiver = await ctx.session.get(Member, handoff.to_member_id)
    owner = await ctx.session.get(Member, handoff.from_member_id) if handoff.from_member_id else None
    to_name = person(receiver) if receiver else "them"
    told = Reply(
        f"{person(ctx.actor)} withdrew the handoff of {customer.name} to {to_name}; there is nothing to answer.",
        fields=[("Reason it was offered", handoff.reason)],
    )
    ids = {receiver.platform_user_id if receiver else None, await member_user_id(ctx, handoff.from_member_id)}
    ids.add(await member_user_id(ctx, handoff.requested_by_id))
    notices = [Notice(uid, told) for uid in sorted(i for i in ids if i and i != ctx.actor.platform_user_id)]
    return Reply(
        f"Withdrew the handoff of {customer.name} to {to_name}; "
        f"{person(owner) if owner else 'its owner'} still owns it.",
        ephemeral=False,
        notices=notices,
    )


@WOW.verb(
    "withdraw",
    Number("proposal_id", label="id", parse=parse_proposal_id, ask="Which gesture? Give its number."),
    summary="Take back your proposal before its vote closes (leads: any of their team's).",
)
async def withdraw_gesture(ctx: Context, *, proposal_id: int) -> Reply:
    done = await withdraw_proposal(
        ctx.session, actor=ctx.actor, workspace_id=ctx.workspace.id, proposal_id=proposal_id, now=ctx.now
    )
    p = done.proposal
    told = Reply(
        f"{person(ctx.actor)} withdrew gesture #{p.id} ({p.gesture}) before the vote closed; "
        "your vote no longer counts and nothing is spent."
    )
    proposer = await member_user_id(ctx, p.proposer_id)
    ids = {*done.voter_user_ids, proposer}
    notices = [Notice(uid, told) for uid in sorted(i for i in ids if i and i != ctx.actor.platform_user_id)]
    return Reply(f"Withdrew gesture #{p.id}; its vote is closed and nothing is spent.", notices=notices)
