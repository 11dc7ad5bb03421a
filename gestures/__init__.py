"""Domain: frugal-wow proposals, votes, deadlines, budget, delivery.

- `budget`: a team's gesture settings (anonymous, hide results, quorum, currency) and monthly budget, and who
  leads the team: `settings_for`, `set_budget`, `change_settings`, `budget_used`, `actor_team`.
- `proposing`: `propose` a gesture for a customer; `get_proposal`, `parse_proposal_id`.
- `voting`: `cast_vote` (one changeable vote per member), `tally`, `add_comment`.
- `closing`: `due_proposals`, `close_proposal` at the deadline, a lead's `decide_over_budget`.
- `delivery`: `assign`, `mark_delivered`, `enqueue_delivery_reminders`, and `pending_deliveries(assignee_id=...)`
  for someone's nudges.
- `views`: what cards and lists show: `view_proposal`, `list_gestures`, `customer_gestures(customer=...)` for a
  customer's history, `gesture_digest(team_id=...)` for a lead's digest.
- `outbox`: the messages owed about gestures, written to the one outbox (`db.outbox`) with the change, so a
  restart or a second replica neither loses nor doubles an announcement; changes edit the posted card in place.
- `amounts`: money (integer cents) and durations as people type them.

The scheduler's entry point is `jobs.gesture_closer.close_due_proposals`; the outbox sender sends what is owed,
drawn at send time by `jobs.gesture_sender.render_gesture` with `handlers.gesture_cards`.
"""
