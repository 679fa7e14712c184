"""JSON API of the back office (mounted at /api/v1/backoffice/; operator sessions only).

Reviewer endpoints of other apps are mounted here too (``/kyc``)."""

import datetime as dt
from typing import Any

from ninja import Field, Query, Router, Schema
from ninja.pagination import PageNumberPagination, paginate
from ninja.responses import Status

from wanxin import inputs
from wanxin.audit import roles
from wanxin.audit.guards import operator_auth
from wanxin.audit.models import RoleGrant
from wanxin.kyc.api import operator_router as kyc_router

from . import selectors, services

MANAGE = "backoffice.manage_operators"

router = Router(tags=["backoffice"], auth=operator_auth())


class MeOut(Schema):
    id: int
    username: str
    roles: list[str]
    permissions: list[str]


@router.get("/me", response=MeOut, summary="The calling operator, roles and permissions")
def me(request):
    user = request.auth
    return {"id": user.pk, "username": user.username, "roles": sorted(user.groups.values_list("name", flat=True)),
            "permissions": [roles.perm(c) for c in selectors.operator_permissions(user)]}


class AuditOut(Schema):
    id: int
    at: dt.datetime
    actor_id: int | None
    actor_username: str
    action: str
    target_type: str
    target_id: str
    before: Any
    after: Any
    ip: str | None


class AuditQuery(Schema):
    actor: str = ""
    action: str = ""
    target_type: str = ""
    target_id: str = ""
    date_from: inputs.Date | None = None
    date_to: inputs.Date | None = None


@router.get("/audit", response=list[AuditOut], auth=operator_auth("backoffice.view_audit_log"),
            summary="Audit log, newest first, with filters")
@paginate(PageNumberPagination, page_size=50)
def audit(request, filters: Query[AuditQuery]):
    return selectors.audit_list(selectors.AuditFilters(**filters.dict()))


class OperatorOut(Schema):
    id: int
    username: str
    full_name: str
    is_active: bool
    roles: list[str]
    pending_roles: list[str]
    created_by: str | None
    last_login: dt.datetime | None


@router.get("/operators", response=list[OperatorOut], auth=operator_auth("backoffice.manage_operators"))
def operators(request):
    pending = selectors.pending_roles_by_operator()
    return [{"id": op.pk, "username": op.username, "full_name": op.get_full_name(), "is_active": op.is_active,
             "roles": [g.name for g in op.groups.all()], "pending_roles": pending.get(op.pk, []),
             "created_by": op.created_by.username if op.created_by_id else None, "last_login": op.last_login}
            for op in selectors.operators_list()]


class GrantOut(Schema):
    id: int
    operator_id: int
    operator: str
    role: str
    status: str
    status_label: str
    proposed_by: str | None
    proposed_at: dt.datetime
    decided_by: str | None
    decided_at: dt.datetime | None


def _grant_out(grant) -> dict:
    return {"id": grant.pk, "operator_id": grant.operator_id, "operator": grant.operator.username, "role": grant.role,
            "status": grant.status, "status_label": str(grant.get_status_display()),
            "proposed_by": grant.proposed_by.username if grant.proposed_by_id else None,
            "proposed_at": grant.proposed_at,
            "decided_by": grant.decided_by.username if grant.decided_by_id else None, "decided_at": grant.decided_at}


class GrantQuery(Schema):
    status: RoleGrant.Status | None = RoleGrant.Status.PENDING


class GrantIn(Schema):
    role: str = Field(..., max_length=80)


@router.get("/grants", response=list[GrantOut], auth=operator_auth(MANAGE),
            summary="Role grants (by default those awaiting a second administrator), oldest first")
def grants(request, filters: Query[GrantQuery]):
    return [_grant_out(g) for g in selectors.grants_list(status=filters.status)]


@router.post("/operators/{operator_id}/grants", response={201: GrantOut}, auth=operator_auth(MANAGE),
             summary="Propose a role that needs a second administrator's confirmation")
def grant_propose(request, operator_id: int, body: GrantIn):
    grant = services.grant_propose(actor=request.auth, operator_id=operator_id, role=body.role)
    return Status(201, _grant_out(selectors.grant_get(grant.pk)))


@router.post("/grants/{grant_id}/confirm", response=GrantOut, auth=operator_auth(MANAGE),
             summary="Confirm a proposed grant (another administrator than its proposer)")
def grant_confirm(request, grant_id: int):
    grant = services.grant_confirm(actor=request.auth, grant_id=grant_id)
    return _grant_out(selectors.grant_get(grant.pk))


@router.post("/grants/{grant_id}/cancel", response=GrantOut, auth=operator_auth(MANAGE),
             summary="Withdraw or decline a proposed grant")
def grant_cancel(request, grant_id: int):
    grant = services.grant_cancel(actor=request.auth, grant_id=grant_id)
    return _grant_out(selectors.grant_get(grant.pk))


router.add_router("/kyc", kyc_router)
