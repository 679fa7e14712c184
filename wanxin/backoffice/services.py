"""Writes of the back office: role definitions and operator management (audited through
``wanxin.audit``)."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import Any

from django.apps import apps as django_apps
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wanxin.accounts.models import User
from wanxin.audit import roles
from wanxin.audit.actions import AuditAction
from wanxin.audit.guards import (
    SYSTEM,
    Forbidden,
    System,
    operator_or_system_require,
    operator_require,
    person,
)
from wanxin.audit.log import audit_record
from wanxin.audit.models import RoleGrant
from wanxin.core.errors import Conflict, NotFound, WanxinError

from . import selectors

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


def operator_create(*, actor: User | System, username: str, password: str | None, role_names: Iterable[str],
                    email: str = "", full_name: str = "") -> tuple[User, str]:
    """Create an active operator. Roles that need a second administrator
    (``roles.role_needs_confirmation``) become pending grants when an operator creates them
    and take effect at confirmation; the others at once. ``actor`` ``SYSTEM`` (seed,
    ``create_operator``): its grants are confirmed at once, recorded as the system's.
    Returns the user and the initial password (generated when ``password`` is None)."""
    operator_or_system_require(actor, "manage_operators")
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
                    is_operator=True, is_active=True, created_by=person(actor))
        if not generated:
            try:
                validate_password(password, user)
            except ValidationError as exc:
                raise WanxinError(" ".join(exc.messages), code="weak_password") from exc
        user.set_password(password)
        user.save()
        guarded = [g for g in groups if roles.role_needs_confirmation(g.name)]
        user.groups.set([g for g in groups if g not in guarded or actor is SYSTEM])
        audit_record(actor=actor, action=AuditAction.OPERATOR_CREATE, target=user, before=None, after=_operator_state(user))
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
    operator_require(actor, "manage_operators")
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
            audit_record(actor=actor, action=AuditAction.OPERATOR_ROLES_SET, target=user, before=before,
                         after=_operator_state(user))
        # Grant rows written after the chain lock: every path to them locks this operator's row
        # first (``_locked_pending_grant``), which we hold, so no one holding them waits for the chain.
        for grant in RoleGrant.objects.filter(operator=user, role__in=to_cancel, status=RoleGrant.Status.PENDING):
            _grant_close(actor=actor, grant=grant, user=user)
        for role in to_propose:
            _grant_open(actor=actor, operator=user, role=role)
    return user


# -- grants of roles that need a second administrator -------------------------------------


# The object type grant rows have been logged under since grants existed (the model moved to
# ``wanxin.audit`` since; the log keeps one name so a grant's history is found in one place).
GRANT_TARGET = "backoffice.rolegrant"


def _grant_state(grant: RoleGrant, user: User) -> dict[str, Any]:
    return {"operator": user.username, "role": grant.role, "status": grant.status, "roles": _roles_of(user)}


def _grant_open(*, actor: User | System, operator: User, role: str) -> RoleGrant:
    """Record a proposed grant (an operator's, pending) or a system grant (confirmed at once,
    the role given here). Inside the caller's transaction; audited."""
    now = timezone.now()
    if actor is SYSTEM:
        grant = RoleGrant.objects.create(operator=operator, role=role, status=RoleGrant.Status.CONFIRMED,
                                         proposed_at=now, decided_at=now)
        operator.groups.add(Group.objects.get(name=role))
        audit_record(actor=SYSTEM, action=AuditAction.GRANT_CONFIRM, target=(GRANT_TARGET, grant.pk), before=None,
                     after=_grant_state(grant, operator))
        return grant
    grant = RoleGrant.objects.create(operator=operator, role=role, proposed_by=actor, proposed_at=now)
    audit_record(actor=actor, action=AuditAction.GRANT_PROPOSE, target=(GRANT_TARGET, grant.pk), before=None,
                 after=_grant_state(grant, operator))
    return grant


def _grant_close(*, actor: User, grant: RoleGrant, user: User) -> None:
    before = _grant_state(grant, user)
    RoleGrant.objects.filter(pk=grant.pk).update(status=RoleGrant.Status.CANCELLED, decided_by=actor,
                                                 decided_at=timezone.now())
    grant.status = RoleGrant.Status.CANCELLED
    audit_record(actor=actor, action=AuditAction.GRANT_CANCEL, target=(GRANT_TARGET, grant.pk), before=before,
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
    operator_require(actor, "manage_operators")
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
    operator_require(actor, "manage_operators")
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
        audit_record(actor=actor, action=AuditAction.GRANT_CONFIRM, target=(GRANT_TARGET, grant.pk), before=before,
                     after=_grant_state(grant, user))
    return grant


def grant_cancel(*, actor: User, grant_id: int) -> RoleGrant:
    """Withdraw (the proposer) or decline (another administrator) a pending grant."""
    operator_require(actor, "manage_operators")
    with transaction.atomic():
        grant, user = _locked_pending_grant(grant_id)
        _grant_close(actor=actor, grant=grant, user=user)
    grant.refresh_from_db()
    return grant


def _operator_active_set(*, actor: User, operator_id: int, active: bool) -> User:
    operator_require(actor, "manage_operators")
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
        audit_record(actor=actor, action=AuditAction.OPERATOR_ACTIVATE if active else AuditAction.OPERATOR_DEACTIVATE, target=user,
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
        audit_record(actor=operator, action=AuditAction.OPERATOR_PASSWORD_CHANGE, target=operator, before=None, after=None)


def operator_login_record(*, operator: User, ip: str | None) -> None:
    audit_record(actor=operator, action=AuditAction.LOGIN, target=operator, before=None, after=None, ip=ip)


def operator_logout_record(*, operator: User, ip: str | None) -> None:
    audit_record(actor=operator, action=AuditAction.LOGOUT, target=operator, before=None, after=None, ip=ip)


def seed_backoffice_demo(*, stdout=None) -> list[tuple[str, str, str]]:
    """Create one demo operator per role (idempotent; existing users are left as they are).
    Returns ``(username, role, password)`` rows and writes them to ``stdout`` if given."""
    roles_sync()
    rows = []
    for username, role in roles.DEMO_OPERATORS:
        if not User.objects.filter(username=username).exists():
            operator_create(actor=SYSTEM, username=username, password=roles.DEMO_PASSWORD, role_names=[role])
        rows.append((username, role, roles.DEMO_PASSWORD))
    if stdout is not None:
        stdout.write("Back-office operators (log in at /backoffice/login):\n")
        for username, role, password in rows:
            stdout.write(f"  {username:<12} {password:<18} {role}\n")
    return rows
