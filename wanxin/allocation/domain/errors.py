"""The one refusal of the allocation rules. No Django here: messages are English source
strings marked for translation (``gettext_noop``); the edge translates them with their
parameters (``wanxin.allocation.errors``)."""

from __future__ import annotations

from typing import Any


def gettext_noop(message: str) -> str:
    """Marks a message for ``makemessages`` without translating it here (no Django in domain)."""
    return message


class RuleError(ValueError):
    """A refusal of one input. ``field`` names it; ``template % params`` is the English text."""

    def __init__(self, template: str, *, field: str = "", **params: Any) -> None:
        self.template = template
        self.params = params
        self.field = field
        self.message = template % params if params else template
        super().__init__(self.message)


class IllegalTransition(ValueError):
    """A status change the allowed-transitions table does not list."""
