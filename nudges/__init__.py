"""Nudges: service levels by tier, an escalation ladder, working hours, and exactly-once delivery.

The domain of "nobody has to remember to look". It reads tickets, customers and handoffs (ownership) and
writes only its own tables (ownerbot/db/models/nudges.py). Every function takes a session and `now`.

How a nudge comes to be, and why a tick costs what is due, not what exists
--------------------------------------------------------------------------
1. **Schedule** (`nudge_checks`, indexed on `check_at`). One row per watched subject (ticket, customer,
   handoff, lead) saying when it must next be looked at. ORM hooks (db/models/nudges.py) set check_at to
   EPOCH ("next tick") whenever a ticket, customer, handoff, member or ownership event is written, so
   new tickets, mood changes, resolutions, re-assigns and releases are seen within one tick; bulk UPDATEs
   elsewhere go through an ownership event, and `planner.recheck` covers any other code path.
2. **Plan** (`planner.plan_due`): read the checks that are due (`check_at <= now`, an index range scan,
   `FOR UPDATE SKIP LOCKED` on PostgreSQL), run the rules (`rules.py`) on each subject, write one
   *episode* per problem (stale since activity X, unhappy for reason Y, …; unique, INSERT .. ON CONFLICT DO
   NOTHING), insert the ladder steps that are due as *deliveries* (unique per episode, step, recipient and
   round; ON CONFLICT DO NOTHING), and move check_at to the next moment anything could change (a warning
   turning into a breach, the next ladder step, the next digest) or drop the row when nothing is left.
   A ticket whose deadline is three days out costs nothing until then.
3. **Send** (`delivery.claim_due` → Notifier → `delivery.mark_sent`): claim due deliveries under a lease,
   re-check that the problem still exists (else cancel), apply the daily cap (the rest go in one bundle),
   commit, send outside the transaction, then mark sent, fenced by `claimed_by`. `DeliveryFailed` with
   `retry_after` is rescheduled; a permanent failure is recorded and the lead (or admins) is told instead.
   A sweeper killed between claim and mark leaves a lease that expires; the next sweep sends it.

Both reads are bounded by the batch size and served by indexes (`ix_nudge_checks_check_at`,
`ix_nudge_deliveries_status_due`, `ix_nudge_deliveries_status_lease`); bench/sweep.py measures it.

The ladder: step 0 goes to the owner (an away owner's delegate, or the lead, at once), step 1 to the team
lead `lead_after` after the breach, step 2 to the admins `admins_after` after that, each timed from the breach
on the ticket's own clock (business hours or 24/7) whatever became of the previous step's message (held for
working hours, capped, undeliverable): the later message says why it came. Done ends the episode; Snooze
sends a reminder later and pushes the next step back, but never more than NUDGE_SNOOZE_LIMIT_MINUTES.
Deliveries wait for the recipient's working hours in their time zone, except breaches of urgent premium tickets.
"""
