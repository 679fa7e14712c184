"""Showing the texts of pure modules in the reader's language (Django's side of core.labels)."""

from __future__ import annotations

from django.utils.translation import gettext

from wanxin.core.labels import TranslatableError


def translated(exc: BaseException) -> str:
    """The message of ``exc`` in the active language (English for errors that are not marked)."""
    if not isinstance(exc, TranslatableError):
        return str(exc)
    text = gettext(exc.text)
    if not exc.params:
        return text
    # Values that are themselves marked labels (a document kind, "no extension") are translated
    # too; any other value (an amount, ".pdf") has no catalogue entry and stays as it is.
    return text % {name: gettext(value) if isinstance(value, str) and value else value
                   for name, value in exc.params.items()}
