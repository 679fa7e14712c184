"""Writes of the back office: the audit log, role definitions and operator management."""

from __future__ import annotations

import contextvars
import secrets
from collections.abc import Iterable
from typing import Any

from axes.helpers import get_client_ip_address
from django.apps import apps as django_apps
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from wanxin.accounts.models import User
from wanxin.core.errors import Conflict, NotFound, WanxinError

from . import roles
from .models import AuditLog

# The client address of the operator request being served; set by the permission checks
# (``access``) and cleared at the start of every request (``apps.BackofficeConfig``).
_audit_ip: contextvars.ContextVar[str | None] = contextvars.ContextVar("wanxin_audit_ip", default=None)


class Forbidden(WanxinError):
    status = 403


def client_ip(request: HttpRequest) -> str | None:
    """The client's address, resolved the way django-axes resolves it for lockouts."""
    return get_client_ip_address(request) or None


def audit_context_set(request: HttpRequest) -> None:
    _audit_ip.set(client_ip(request))


def audit_context_clear(**_: Any) -> None:
    _audit_ip.set(None)


Target = models.Model | tuple[str, Any]


def _target(target: Target) -> tuple[str, str]:
    if isinstance(target, models.Model):
        return target._meta.label_lower, str(target.pk)
    kind, ident = target
    return str(kind), str(ident)


def audit_record(*, actor: User | None, action: str, target: Target, before: dict | None,
                 after: dict | None, ip: str | None = None) -> AuditLog:
    """Append one audit row. Call inside the transaction of the change it records, so the
    change and its row commit or vanish together. ``target`` is a model instance or a
    ``(type, id)`` pair; ``ip`` defaults to the address of the request being served."""
    target_type, target_id = _target(target)
    return AuditLog.objects.create(
        actor=actor, actor_username=actor.get_username() if actor is not None else "",
        action=action, target_type=target_type, target_id=target_id, before=before, after=after,
        ip=ip if ip is not None else _audit_ip.get(),
    )


# -- roles --------------------------------------------------------------------------------


def roles_sync(apps=django_apps) -> None:
    """Create the permissions and make each role group hold exactly the permissions of
    ``roles.ROLES`` (idempotent; also usable from migrations with their ``apps``)."""
    content_type_model = apps.get_model("contenttypes", "ContentType")
    permission_model = apps.get_model("auth", "Permission")
    group_model = apps.get_model("auth", "Group")
    content_type, _created = content_type_model.objects.get_or_create(app_label="backoffice", model="operatorpermission")
    by_codename = {}
    for codename, name in roles.PERMISSIONS.items():
        permission, _created = permission_model.objects.update_or_create(
            content_type=content_type, codename=codename, defaults={"name": name})
        by_codename[codename] = permission
    for role, codenames in roles.ROLES.items():
        group, _created = group_model.objects.get_or_create(name=role)
        group.permissions.set([by_codename[c] for c in sorted(codenames)])


def _roles_of(user: User) -> list[str]:
    return sorted(user.groups.values_list("name", flat=True))


def _role_groups(names: Iterable[str]) -> list[Group]:
    wanted = sorted(set(names))
    unknown = [n for n in wanted if n not in roles.ROLES]
    if unknown:
        raise WanxinError(_("Unknown role: %(roles)s.") % {"roles": ", ".join(unknown)}, code="unknown_role")
    groups = list(Group.objects.filter(name__in=wanted))
    if len(groups) != len(wanted):
        raise WanxinError(_("The roles are not set up; run the migrations."), code="roles_missing")
    return groups


def _operator_state(user: User) -> dict[str, Any]:
    return {"username": user.username, "is_active": user.is_active, "roles": _roles_of(user)}


def _require(actor: User | None, codename: str) -> None:
    if actor is not None and not (actor.is_operator and actor.is_active and actor.has_perm(roles.perm(codename))):
        raise Forbidden(_("You do not have permission to do this."), code="forbidden")


def operator_create(*, actor: User | None, username: str, password: str | None, role_names: Iterable[str],
                    email: str = "", full_name: str = "") -> tuple[User, str]:
    """Create an active operator with the given roles. Returns the user and the initial
    password (generated when ``password`` is None). ``actor`` None means the system."""
    _require(actor, "manage_operators")
    username = username.strip()
    if not username:
        raise WanxinError(_("A username is required."), code="username_required")
    groups = _role_groups(role_names)
    if not groups:
        raise WanxinError(_("Choose at least one role."), code="role_required")
    generated = password is None
    password = password if password is not None else secrets.token_urlsafe(12)
    with transaction.atomic():
        if User.objects.filter(username__iexact=username).exists():
            raise Conflict(_("This username is taken."), code="username_taken")
        user = User(username=username, email=email.strip(), first_name=full_name.strip()[:150],
                    is_operator=True, is_active=True)
        if not generated:
            try:
                validate_password(password, user)
            except ValidationError as exc:
                raise WanxinError(" ".join(exc.messages), code="weak_password") from exc
        user.set_password(password)
        user.save()
        user.groups.set(groups)
        audit_record(actor=actor, action="operator.create", target=user, before=None, after=_operator_state(user))
    return user, password


def _locked_operator(operator_id: int) -> User:
    user = User.objects.select_for_update().filter(pk=operator_id, is_operator=True).first()
    if user is None:
        raise NotFound(_("No such operator."), code="not_found")
    return user


def operator_roles_set(*, actor: User, operator_id: int, role_names: Iterable[str]) -> User:
    _require(actor, "manage_operators")
    groups = _role_groups(role_names)
    with transaction.atomic():
        user = _locked_operator(operator_id)
        if user.pk == actor.pk:
            raise Conflict(_("You cannot change your own roles; ask another super admin."), code="self_change")
        before = _operator_state(user)
        if before["roles"] == sorted(g.name for g in groups):
            raise Conflict(_("These are already the operator's roles."), code="unchanged")
        user.groups.set(groups)
        audit_record(actor=actor, action="operator.roles_set", target=user, before=before,
                     after=_operator_state(user))
    return user


def _operator_active_set(*, actor: User, operator_id: int, active: bool) -> User:
    _require(actor, "manage_operators")
    with transaction.atomic():
        user = _locked_operator(operator_id)
        if user.pk == actor.pk:
            raise Conflict(_("You cannot deactivate yourself."), code="self_change")
        if user.is_active == active:
            raise Conflict(_("This operator is already active.") if active else _("This operator is already deactivated."),
                           code="unchanged")
        before = _operator_state(user)
        User.objects.filter(pk=user.pk).update(is_active=active)
        user.is_active = active
        audit_record(actor=actor, action="operator.activate" if active else "operator.deactivate", target=user,
                     before=before, after=_operator_state(user))
    return user


def operator_deactivate(*, actor: User, operator_id: int) -> User:
    """Deactivate an operator: their sessions stop working at their next request."""
    return _operator_active_set(actor=actor, operator_id=operator_id, active=False)


def operator_activate(*, actor: User, operator_id: int) -> User:
    return _operator_active_set(actor=actor, operator_id=operator_id, active=True)


def operator_password_change(*, operator: User, old_password: str, new_password: str) -> None:
    if not operator.check_password(old_password):
        raise WanxinError(_("Your current password is not correct."), code="wrong_password")
    try:
        validate_password(new_password, operator)
    except ValidationError as exc:
        raise WanxinError(" ".join(exc.messages), code="weak_password") from exc
    with transaction.atomic():
        operator.set_password(new_password)
        operator.save(update_fields=["password"])
        audit_record(actor=operator, action="operator.password_change", target=operator, before=None, after=None)


def operator_login_record(*, operator: User, ip: str | None) -> None:
    audit_record(actor=operator, action="auth.login", target=operator, before=None, after=None, ip=ip)


def operator_logout_record(*, operator: User, ip: str | None) -> None:
    audit_record(actor=operator, action="auth.logout", target=operator, before=None, after=None, ip=ip)


def seed_backoffice_demo(*, stdout=None) -> list[tuple[str, str, str]]:
    """Create one demo operator per role (idempotent; existing users are left as they are).
    Returns ``(username, role, password)`` rows and writes them to ``stdout`` if given."""
    roles_sync()
    rows = []
    for username, role in roles.DEMO_OPERATORS:
        if not User.objects.filter(username=username).exists():
            operator_create(actor=None, username=username, password=roles.DEMO_PASSWORD, role_names=[role])
        rows.append((username, role, roles.DEMO_PASSWORD))
    if stdout is not None:
        stdout.write("Back-office operators (log in at /backoffice/login):\n")
        for username, role, password in rows:
            stdout.write(f"  {username:<12} {password:<18} {role}\n")
    return rows
