"""Admin pieces shared by the bank's console and the platform's admin (both may import this
module: it imports neither side)."""

from __future__ import annotations

from django.contrib import admin


class ReadOnly(admin.ModelAdmin):
    """Shown, never added, changed or deleted here: money state and audit rows change only
    through the services (and the bank's results)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
