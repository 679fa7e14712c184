"""JSON API of the back office (mounted at /api/v1/backoffice/; operator sessions only).

Reviewer endpoints of other apps are mounted here too (``/kyc``)."""

import datetime as dt
from typing import Any

from ninja import Query, Router, Schema
from ninja.pagination import PageNumberPagination, paginate

from wanxin import inputs
from wanxin.kyc.api import operator_router as kyc_router

from . import roles, selectors
from .access import operator_auth

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
    last_login: dt.datetime | None


@router.get("/operators", response=list[OperatorOut], auth=operator_auth("backoffice.manage_operators"))
def operators(request):
    return [{"id": op.pk, "username": op.username, "full_name": op.get_full_name(), "is_active": op.is_active,
             "roles": [g.name for g in op.groups.all()], "last_login": op.last_login}
            for op in selectors.operators_list()]


router.add_router("/kyc", kyc_router)
