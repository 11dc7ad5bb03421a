"""Domain: which nudges are due, escalation ladder, working hours, claim-due-and-mark-sent."""
