from django.contrib import admin

from wanxin.admin_support import ReadOnly

from .models import IgnoredBankResult


@admin.register(IgnoredBankResult)
class IgnoredBankResultAdmin(ReadOnly):
    """Read-only count of bank results the platform would not apply (PROTOCOL §4a) or that no
    business object took (no handler, owner gone, repeated: docs/decisions/0004)."""

    list_display = ("created_at", "reason", "resp_code", "request_no", "source", "resp_msg")
    list_filter = ("reason", "resp_code", "source")
    search_fields = ("request_no",)
    date_hierarchy = "created_at"
