"""Domain: customers, tickets, claim / handoff (reason required) / release, the audit trail, permissions.

Every public function is keyword-only, takes an AsyncSession and `now`, returns plain results and raises
typed errors from `ownership.errors`. The caller owns the transaction: one command, one transaction.
"""
