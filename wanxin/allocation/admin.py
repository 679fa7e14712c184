"""Operators keep products, holidays and the sub-account pool here; allocations and their
money only change through the services (read-only here)."""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from wanxin.admin_support import ReadOnly

from .models import Allocation, Holiday, Product, ProductMultiple, SubAccount


class MultipleInline(admin.TabularInline):
    model = ProductMultiple
    extra = 1


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "type", "deposit_min", "deposit_max", "risk_fund_rate", "warning_pct",
                    "liquidation_pct", "active")
    list_filter = ("type", "active")
    inlines = [MultipleInline]


@admin.register(Holiday)
class HolidayAdmin(admin.ModelAdmin):
    list_display = ("day", "name")
    date_hierarchy = "day"


class SubAccountForm(forms.ModelForm):
    """The password is written, never shown back (it is encrypted at rest)."""

    password = forms.CharField(label=_("password"), widget=forms.PasswordInput(render_value=False), required=False,
                               help_text=_("Leave empty to keep the current password."))

    class Meta:
        model = SubAccount
        fields = ("account_id", "password", "broker", "status")

    def clean_password(self):
        value = self.cleaned_data["password"]
        if not value and not self.instance.pk:
            raise forms.ValidationError(_("A new sub-account needs its password."))
        return value or self.instance.password


@admin.register(SubAccount)
class SubAccountAdmin(admin.ModelAdmin):
    form = SubAccountForm
    list_display = ("account_id", "broker", "status", "created_at")
    list_filter = ("status",)
    search_fields = ("account_id",)


@admin.register(Allocation)
class AllocationAdmin(ReadOnly):
    list_display = ("allocation_no", "customer", "product", "status", "deposit", "allocated", "warning_line",
                    "liquidation_line", "latest_total_assets")
    list_filter = ("status", "product_type")
    search_fields = ("allocation_no",)
