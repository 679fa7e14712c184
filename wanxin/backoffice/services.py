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
from django.utils import timezone
from django.utils.translation import gettext as _

from wanxin.accounts.models import User
from wanxin.core.errors import Conflict, NotFound, WanxinError

from . import roles, selectors
from .models import AuditLog, RoleGrant

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
    return {"username": user.username, "is_active": user.is_active, "roles": _roles_of(user),
            "pending_roles": selectors.pending_roles_of(user)}


def _duty_conflict_refuse(role_names: Iterable[str]) -> None:
    if roles.duty_conflict(role_names):
        raise Conflict(_("One operator cannot both manage operators and hold a role that moves or approves money "
                         "(%(roles)s); give these duties to different people.")
                       % {"roles": ", ".join(sorted(r for r in role_names if roles.ROLES[r] & roles.MONEY_PERMISSIONS))},
                       code="duty_conflict")


def _require(actor: User | None, codename: str) -> None:
    if actor is not None and not (actor.is_operator and actor.is_active and actor.has_perm(roles.perm(codename))):
        raise Forbidden(_("You do not have permission to do this."), code="forbidden")


def operator_create(*, actor: User | None, username: str, password: str | None, role_names: Iterable[str],
                    email: str = "", full_name: str = "") -> tuple[User, str]:
    """Create an active operator. Roles that need a second administrator
    (``roles.role_needs_confirmation``) become pending grants when an operator creates them
    and take effect at confirmation; the others at once. ``actor`` None means the system
    (seed, ``create_operator``): its grants are confirmed at once, recorded as the system's.
    Returns the user and the initial password (generated when ``password`` is None)."""
    _require(actor, "manage_operators")
    username = username.strip()
    if not username:
        raise WanxinError(_("A username is required."), code="username_required")
    groups = _role_groups(role_names)
    if not groups:
        raise WanxinError(_("Choose at least one role."), code="role_required")
    _duty_conflict_refuse([g.name for g in groups])
    generated = password is None
    password = password if password is not None else secrets.token_urlsafe(12)
    with transaction.atomic():
        if User.objects.filter(username__iexact=username).exists():
            raise Conflict(_("This username is taken."), code="username_taken")
        user = User(username=username, email=email.strip(), first_name=full_name.strip()[:150],
                    is_operator=True, is_active=True, created_by=actor)
        if not generated:
            try:
                validate_password(password, user)
            except ValidationError as exc:
                raise WanxinError(" ".join(exc.messages), code="weak_password") from exc
        user.set_password(password)
        user.save()
        guarded = [g for g in groups if roles.role_needs_confirmation(g.name)]
        user.groups.set([g for g in groups if g not in guarded or actor is None])
        audit_record(actor=actor, action="operator.create", target=user, before=None, after=_operator_state(user))
        for group in guarded:
            _grant_open(actor=actor, operator=user, role=group.name)
    return user, password


def _locked_operator(operator_id: int) -> User:
    user = User.objects.select_for_update().filter(pk=operator_id, is_operator=True).first()
    if user is None:
        raise NotFound(_("No such operator."), code="not_found")
    return user


def operator_roles_set(*, actor: User, operator_id: int, role_names: Iterable[str]) -> User:
    """Make ``role_names`` the operator's roles. Removals and roles that need no second
    administrator apply at once; the others become pending grants (``grant_confirm``); a
    pending grant whose role is left out is cancelled."""
    _require(actor, "manage_operators")
    groups = _role_groups(role_names)
    wanted = {g.name for g in groups}
    _duty_conflict_refuse(wanted)
    with transaction.atomic():
        user = _locked_operator(operator_id)
        if user.pk == actor.pk:
            raise Conflict(_("You cannot change your own roles; ask another super admin."), code="self_change")
        before = _operator_state(user)
        held, pending = set(before["roles"]), set(before["pending_roles"])
        to_propose = sorted(r for r in wanted - held - pending if roles.role_needs_confirmation(r))
        to_cancel = sorted(pending - wanted)
        immediate = [g for g in groups if g.name in held or not roles.role_needs_confirmation(g.name)]
        if {g.name for g in immediate} == held and not to_propose and not to_cancel:
            raise Conflict(_("These are already the operator's roles."), code="unchanged")
        if to_propose and not user.is_active:
            raise Conflict(_("Activate the operator before proposing a role for them."), code="inactive")
        if {g.name for g in immediate} != held:
            user.groups.set(immediate)
            audit_record(actor=actor, action="operator.roles_set", target=user, before=before,
                         after=_operator_state(user))
        for grant in RoleGrant.objects.filter(operator=user, role__in=to_cancel, status=RoleGrant.Status.PENDING):
            _grant_close(actor=actor, grant=grant, user=user)
        for role in to_propose:
            _grant_open(actor=actor, operator=user, role=role)
    return user


# -- grants of roles that need a second administrator -------------------------------------


def _grant_state(grant: RoleGrant, user: User) -> dict[str, Any]:
    return {"operator": user.username, "role": grant.role, "status": grant.status, "roles": _roles_of(user)}


def _grant_open(*, actor: User | None, operator: User, role: str) -> RoleGrant:
    """Record a proposed grant (an operator's, pending) or a system grant (confirmed at once,
    the role given here). Inside the caller's transaction; audited."""
    now = timezone.now()
    if actor is None:
        grant = RoleGrant.objects.create(operator=operator, role=role, status=RoleGrant.Status.CONFIRMED,
                                         proposed_at=now, decided_at=now)
        operator.groups.add(Group.objects.get(name=role))
        audit_record(actor=None, action="operator.grant_confirm", target=grant, before=None,
                     after=_grant_state(grant, operator))
        return grant
    grant = RoleGrant.objects.create(operator=operator, role=role, proposed_by=actor, proposed_at=now)
    audit_record(actor=actor, action="operator.grant_propose", target=grant, before=None,
                 after=_grant_state(grant, operator))
    return grant


def _grant_close(*, actor: User, grant: RoleGrant, user: User) -> None:
    before = _grant_state(grant, user)
    RoleGrant.objects.filter(pk=grant.pk).update(status=RoleGrant.Status.CANCELLED, decided_by=actor,
                                                 decided_at=timezone.now())
    grant.status = RoleGrant.Status.CANCELLED
    audit_record(actor=actor, action="operator.grant_cancel", target=grant, before=before,
                 after=_grant_state(grant, user))


def _locked_pending_grant(grant_id: int) -> tuple[RoleGrant, User]:
    operator_id = RoleGrant.objects.filter(pk=grant_id).values_list("operator_id", flat=True).first()
    if operator_id is None:
        raise NotFound(_("No such grant."), code="not_found")
    user = _locked_operator(operator_id)  # the operator first, then the grant: one lock order
    grant = RoleGrant.objects.select_for_update().get(pk=grant_id)
    if grant.status != RoleGrant.Status.PENDING:
        raise Conflict(_("This grant is already %(status)s.") % {"status": grant.get_status_display().lower()},
                       code="bad_status")
    return grant, user


def grant_propose(*, actor: User, operator_id: int, role: str) -> RoleGrant:
    """Propose giving an operator a role that needs a second administrator."""
    _require(actor, "manage_operators")
    _role_groups([role])
    if not roles.role_needs_confirmation(role):
        raise WanxinError(_("The role “%(role)s” needs no confirmation; set it with the operator's roles.")
                          % {"role": role}, code="no_confirmation_needed")
    with transaction.atomic():
        user = _locked_operator(operator_id)
        if user.pk == actor.pk:
            raise Conflict(_("You cannot propose a role for yourself; ask another administrator."), code="self_change")
        if not user.is_active:
            raise Conflict(_("Activate the operator before proposing a role for them."), code="inactive")
        held, pending = _roles_of(user), selectors.pending_roles_of(user)
        if role in held:
            raise Conflict(_("The operator already holds this role."), code="unchanged")
        if role in pending:
            raise Conflict(_("This role is already proposed for the operator and awaits confirmation."),
                           code="duplicate")
        _duty_conflict_refuse([*held, *pending, role])
        return _grant_open(actor=actor, operator=user, role=role)


def grant_confirm(*, actor: User, grant_id: int) -> RoleGrant:
    """The second administrator confirms a proposed grant: only now does the operator hold
    the role. The proposer and the operator themselves may not confirm it."""
    _require(actor, "manage_operators")
    with transaction.atomic():
        grant, user = _locked_pending_grant(grant_id)
        if grant.proposed_by_id == actor.pk:
            raise Forbidden(_("You proposed this grant; another administrator must confirm it."),
                            code="own_proposal")
        if user.pk == actor.pk:
            raise Forbidden(_("This grant is for you; another administrator must confirm it."), code="self_change")
        if not user.is_active:
            raise Conflict(_("The operator is deactivated; activate them or cancel the grant."), code="inactive")
        _duty_conflict_refuse([*_roles_of(user), grant.role])
        before = _grant_state(grant, user)
        user.groups.add(Group.objects.get(name=grant.role))
        RoleGrant.objects.filter(pk=grant.pk).update(status=RoleGrant.Status.CONFIRMED, decided_by=actor,
                                                     decided_at=timezone.now())
        grant.refresh_from_db()
        audit_record(actor=actor, action="operator.grant_confirm", target=grant, before=before,
                     after=_grant_state(grant, user))
    return grant


def grant_cancel(*, actor: User, grant_id: int) -> RoleGrant:
    """Withdraw (the proposer) or decline (another administrator) a pending grant."""
    _require(actor, "manage_operators")
    with transaction.atomic():
        grant, user = _locked_pending_grant(grant_id)
        _grant_close(actor=actor, grant=grant, user=user)
    grant.refresh_from_db()
    return grant


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
