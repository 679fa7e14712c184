"""Recording an action in the audit log.

```python
from wanxin.audit.log import audit_record
from wanxin.audit.actions import AuditAction

with transaction.atomic():
    ...change (row locks first)...
    audit_record(actor=operator, action=AuditAction.LOAN_APPROVE, target=loan,
                 before={"status": "PENDING_REVIEW"}, after={"status": "COLLECTING"})
```
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import models

from . import chain
from .actions import AuditAction
from .context import current_ip
from .guards import SYSTEM, System
from .models import AuditLog

Target = models.Model | tuple[str, Any]


def _target(target: Target) -> tuple[str, str]:
    if isinstance(target, models.Model):
        return target._meta.label_lower, str(target.pk)
    kind, ident = target
    return str(kind), str(ident)


def audit_record(*, actor: AbstractBaseUser | System, action: AuditAction, target: Target, before: dict | None,
                 after: dict | None, ip: str | None = None) -> AuditLog:
    """Append one audit row. Call inside the transaction of the change it records, as its last
    write (the row takes the chain lock, held until COMMIT), so the change and its row commit or
    vanish together. ``actor`` is an operator or ``SYSTEM`` (stored as no actor); ``target`` a
    model instance or a ``(type, id)`` pair; ``ip`` defaults to the address of the request being
    served. An action outside ``AuditAction`` is refused."""
    if action not in AuditAction.values:
        raise ValueError(f"unknown audit action {action!r}: add it to wanxin.audit.actions.AuditAction")
    if actor is not SYSTEM and not isinstance(actor, get_user_model()):
        raise TypeError(f"audit actor must be a user or guards.SYSTEM, not {actor!r}")
    person = None if actor is SYSTEM else actor
    target_type, target_id = _target(target)
    row = AuditLog(actor=person, actor_username=person.get_username() if person is not None else "",
                   action=str(action), target_type=target_type, target_id=target_id, before=before, after=after,
                   ip=ip if ip is not None else current_ip())
    chain.append(row)
    return row
