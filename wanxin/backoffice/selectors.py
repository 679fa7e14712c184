"""Reads of the back office."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth.models import Group
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from wanxin.accounts.models import User
from wanxin.audit import roles
from wanxin.audit.models import AuditLog, RoleGrant


@dataclass(frozen=True)
class AuditFilters:
    actor: str = ""
    action: str = ""
    target_type: str = ""
    target_id: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def audit_list(filters: AuditFilters) -> QuerySet[AuditLog]:
    rows = AuditLog.objects.all()
    if filters.actor:
        rows = rows.filter(actor_username__iexact=filters.actor.strip())
    if filters.action:
        rows = rows.filter(action=filters.action)
    if filters.target_type:
        rows = rows.filter(target_type=filters.target_type)
    if filters.target_id:
        rows = rows.filter(target_id=filters.target_id.strip())
    if filters.date_from:
        rows = rows.filter(at__gte=_day_start(filters.date_from))
    if filters.date_to:
        rows = rows.filter(at__lt=_day_start(filters.date_to + dt.timedelta(days=1)))
    return rows.order_by("-id")


def audit_operators() -> list[str]:
    """The user names that appear in the log (the filter's suggestions)."""
    return list(AuditLog.objects.exclude(actor_username="").order_by("actor_username")
                .values_list("actor_username", flat=True).distinct())


def audit_target_types() -> list[str]:
    return list(AuditLog.objects.order_by("target_type").values_list("target_type", flat=True).distinct())


def operators_list() -> QuerySet[User]:
    return (User.objects.filter(is_operator=True).select_related("created_by")
            .prefetch_related(Prefetch("groups", queryset=Group.objects.order_by("name")))
            .order_by("username"))


def operator_get(operator_id: int) -> User | None:
    return operators_list().filter(pk=operator_id).first()


def grants_list(*, status: str | None = RoleGrant.Status.PENDING) -> QuerySet[RoleGrant]:
    """Role grants, oldest first (pending ones by default: the confirmation queue)."""
    rows = RoleGrant.objects.select_related("operator", "proposed_by", "decided_by").order_by("id")
    return rows.filter(status=status) if status else rows


def grant_get(grant_id: int) -> RoleGrant | None:
    return grants_list(status=None).filter(pk=grant_id).first()


def pending_roles_of(user: User) -> list[str]:
    return sorted(grants_list().filter(operator=user).values_list("role", flat=True))


def pending_roles_by_operator() -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for operator_id, role in grants_list().values_list("operator_id", "role"):
        found.setdefault(operator_id, []).append(role)
    return found


def role_names() -> list[str]:
    return list(roles.ROLES)


def operator_permissions(user: User) -> list[str]:
    """The back-office permission codenames the user holds, in table order."""
    return [c for c in roles.PERMISSIONS if user.has_perm(roles.perm(c))]


def customers_list(*, query: str = "") -> QuerySet[User]:
    # Customers only: not operators, and not the Django staff accounts (``admin``) either.
    rows = (User.objects.filter(is_operator=False, is_staff=False, is_superuser=False)
            .select_related("kyc_application").order_by("-id"))
    query = query.strip()
    if query:
        rows = rows.filter(Q(username__iexact=query) | Q(mobile=query))
    return rows


def customer_get(customer_id: int) -> User | None:
    return customers_list().filter(pk=customer_id).first()
