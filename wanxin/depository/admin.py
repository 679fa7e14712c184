from django.contrib import admin

from .models import IgnoredBankResult


@admin.register(IgnoredBankResult)
class IgnoredBankResultAdmin(admin.ModelAdmin):
    """Read-only count of bank results the platform would not apply (PROTOCOL §4a) or that no
    business object took (no handler, owner gone, repeated: docs/decisions/0004)."""

    list_display = ("created_at", "reason", "resp_code", "request_no", "source", "resp_msg")
    list_filter = ("reason", "resp_code", "source")
    search_fields = ("request_no",)
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
