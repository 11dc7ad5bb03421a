"""Domain: frugal-wow proposals, votes, deadlines, budget, delivery.

- `proposals`: propose / cast_vote / close_proposal / decide_over_budget / mark_delivered / assign /
  add_comment, team settings and the monthly budget, and what other parts read:
  `pending_deliveries(assignee_id=...)` for someone's nudges, `gesture_digest(team_id=...)` for a lead's digest,
  `customer_gestures(customer=...)` for a customer's history.
- `outbox`: the messages owed about gestures, as rows with a lease, so a restart or a second replica neither
  loses nor doubles an announcement.
- `amounts`: money (integer cents) and durations as people type them.

The scheduler's entry point is `jobs.gesture_closer.close_due_proposals`; `jobs.gesture_sender` sends what the
outbox holds, drawn by `handlers.gesture_cards`.
"""
