"""Platform-neutral conversation layer: parse a command or a button action, call the domain, return a Reply.

Importing this package registers every command and action module.
"""

from . import admin, availability, calendars, channels, claims, custody, field, gestures, nudges, tickets, withdrawals  # noqa: F401  (registers commands)
from .dispatch import Handlers
from .replies import ActionId, ActionInvocation, Button, Invocation, Notice, Prompt, Reply

__all__ = ["ActionId", "ActionInvocation", "Button", "Handlers", "Invocation", "Notice", "Prompt", "Reply"]
