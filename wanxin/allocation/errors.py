"""Domain refusals at the edge: translated, with the offending field in the code."""

from __future__ import annotations

from django.utils.translation import gettext

from wanxin.core.errors import WanxinError

from . import domain


class Invalid(WanxinError):
    """A refusal about one input; ``code`` is ``invalid_<field>``."""


def invalid(exc: domain.RuleError, *, field: str | None = None, status: int = 400) -> Invalid:
    """The refusal in the reader's language; ``field`` renames the domain's field to the
    caller's (``productId`` in the API)."""
    name = field or exc.field
    text = gettext(exc.template)
    if exc.params:
        text = text % exc.params
    return Invalid(text, code=f"invalid_{name}" if name else "invalid", status=status)
