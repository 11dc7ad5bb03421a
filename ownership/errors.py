"""Typed domain errors. Each carries a friendly, complete sentence for the person who asked."""

from __future__ import annotations


class DomainError(Exception):
    """A refusal: nothing was written, and `message` says why and what to do instead."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(DomainError):
    pass


class ReasonRequired(InvalidInput):
    pass


class NotFound(DomainError):
    pass


class CustomerNotFound(NotFound):
    def __init__(self, name: str, suggestion: str | None = None) -> None:
        hint = f' Did you mean "{suggestion}"?' if suggestion else " See `customers` for the list."
        super().__init__(f'I don\'t know a customer called "{name}".{hint}')
        self.name = name
        self.suggestion = suggestion


class MemberNotFound(NotFound):
    def __init__(self, ref: str) -> None:
        super().__init__(
            f'I don\'t know anyone called "{ref}" here. Mention them (@name); they appear once they use ownerbot.'
        )
        self.ref = ref


class NotPermitted(DomainError):
    pass


class NotOwner(NotPermitted):
    pass


class AlreadyOwned(DomainError):
    def __init__(self, customer: str, owner: str) -> None:
        super().__init__(
            f"{customer} is already owned by {owner}. Ask them to hand it over: "
            f"`handoff {quote(customer)} @you <reason>`, or ask a lead to reassign it."
        )
        self.owner = owner


class Conflict(DomainError):
    pass


def quote(name: str) -> str:
    """A customer name as the user would type it back into a command."""
    return f'"{name}"' if any(ch.isspace() for ch in name) else name
