"""The client address of the operator request being served, for the audit rows it writes.
Set by the permission checks (``guards``), cleared at the start of every request
(``apps.AuditConfig``), read by ``log.audit_record``."""

from __future__ import annotations

import contextvars
from typing import Any

from axes.helpers import get_client_ip_address
from django.http import HttpRequest

_audit_ip: contextvars.ContextVar[str | None] = contextvars.ContextVar("wanxin_audit_ip", default=None)


def client_ip(request: HttpRequest) -> str | None:
    """The client's address, resolved the way django-axes resolves it for lockouts."""
    return get_client_ip_address(request) or None


def audit_context_set(request: HttpRequest) -> None:
    _audit_ip.set(client_ip(request))


def audit_context_clear(**_: Any) -> None:
    _audit_ip.set(None)


def current_ip() -> str | None:
    return _audit_ip.get()
