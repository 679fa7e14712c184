from django.contrib import admin

from .models import SmsMessage


@admin.register(SmsMessage)
class SmsMessageAdmin(admin.ModelAdmin):
    list_display = ("created_at", "mobile", "purpose", "status", "backend")
    list_filter = ("status", "purpose", "backend")
    search_fields = ("mobile",)
    readonly_fields = ("mobile", "purpose", "text", "backend", "status", "error", "created_at")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
