from django.contrib import admin
from django.contrib.auth.models import Group

from wanxin.admin_support import ReadOnly
from wanxin.audit.models import AuditLog, RoleGrant


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnly):
    """Read-only: audit rows are append-only."""

    list_display = ("id", "at", "actor_username", "action", "target_type", "target_id", "ip")
    list_filter = ("action", "target_type")
    search_fields = ("actor_username", "target_id")


@admin.register(RoleGrant)
class RoleGrantAdmin(ReadOnly):
    """Read-only: grants are proposed and confirmed on the operators page, by two people."""

    list_display = ("id", "operator", "role", "status", "proposed_by", "proposed_at", "decided_by", "decided_at")
    list_filter = ("status", "role")


# Roles are the table in roles.py (synced by migrations); editing a role's permissions here
# would bypass the separation of duties, so the admin shows them read-only.
admin.site.unregister(Group)


@admin.register(Group)
class RoleAdmin(ReadOnly):
    list_display = ("name",)
    filter_horizontal = ("permissions",)
