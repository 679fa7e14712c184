"""The bank staff console: a separate admin site over the bank's models.
Ledger history is read-only; the one write is funding PLATFORM_CAPITAL."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.shortcuts import redirect, render
from django.urls import path

from wanxin.core.money import format_fen

from . import staff
from .models import (
    Account,
    BalanceChange,
    BankCard,
    BankRequest,
    Freeze,
    Notification,
    Project,
    Statement,
    Transfer,
)


class BankConsole(admin.AdminSite):
    site_header = "Huaxin Depository Bank · staff console"
    site_title = "Bank console"
    index_title = "Accounts, ledger, notifications, statements"

    def get_urls(self):
        return [path("fund-capital/", self.admin_view(self.fund_capital), name="fund-capital"), *super().get_urls()]

    def fund_capital(self, request):
        form = FundCapitalForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            req = staff.fund_platform_capital(
                platform_no=form.cleaned_data["platform_no"],
                amount=form.cleaned_data["amount_fen"],
                staff=request.user.get_username(),
            )
            messages.success(request, f"PLATFORM_CAPITAL funded with {format_fen(req.amount)} ({req.request_no}).")
            return redirect("bank_console:bank_account_changelist")
        return render(request, "bank/fund_capital.html", {**self.each_context(request), "form": form,
                                                          "title": "Fund PLATFORM_CAPITAL"})


class FundCapitalForm(forms.Form):
    platform_no = forms.ChoiceField(choices=())
    amount_fen = forms.IntegerField(min_value=1, max_value=10**13, label="Amount (fen)")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["platform_no"].choices = [(p, p) for p in settings.BANK_PLATFORMS]


bank_console = BankConsole(name="bank_console")


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Account, site=bank_console)
class AccountAdmin(ReadOnly):
    list_display = ["platform_no", "account_no", "kind", "status", "shown_available", "shown_frozen", "masked_name"]
    list_filter = ["platform_no", "kind", "status"]
    search_fields = ["account_no", "mobile"]
    exclude = ["trade_password", "id_number"]

    @admin.display(description="available")
    def shown_available(self, obj):
        return format_fen(obj.available)

    @admin.display(description="frozen")
    def shown_frozen(self, obj):
        return format_fen(obj.frozen)

    @admin.display(description="name")
    def masked_name(self, obj):
        return (obj.full_name[:1] + "*" * (len(obj.full_name) - 1)) if obj.full_name else ""


@admin.register(BankCard, site=bank_console)
class BankCardAdmin(ReadOnly):
    list_display = ["account", "bank_code", "masked_number", "balance"]
    exclude = ["card_number"]


@admin.register(BankRequest, site=bank_console)
class BankRequestAdmin(ReadOnly):
    list_display = ["request_no", "platform_no", "service_name", "status", "resp_code", "amount", "finished_at"]
    list_filter = ["service_name", "status", "platform_no"]
    search_fields = ["request_no", "user_no"]


@admin.register(Transfer, site=bank_console)
class TransferAdmin(ReadOnly):
    list_display = ["id", "request", "debit", "credit", "amount", "freeze", "created_at"]


@admin.register(BalanceChange, site=bank_console)
class BalanceChangeAdmin(ReadOnly):
    list_display = ["id", "account", "request", "delta_available", "delta_frozen", "available_after", "frozen_after"]
    list_filter = ["account__kind"]


@admin.register(Freeze, site=bank_console)
class FreezeAdmin(ReadOnly):
    list_display = ["request", "account", "biz_type", "project_no", "amount", "remaining", "status"]
    list_filter = ["status", "biz_type"]


@admin.register(Project, site=bank_console)
class ProjectAdmin(ReadOnly):
    list_display = ["project_no", "platform_no", "name", "amount", "annual_rate", "periods", "status"]


@admin.register(Notification, site=bank_console)
class NotificationAdmin(ReadOnly):
    list_display = ["request_no", "platform_no", "status", "attempts", "next_attempt_at", "last_error"]
    list_filter = ["status"]


@admin.register(Statement, site=bank_console)
class StatementAdmin(ReadOnly):
    list_display = ["platform_no", "date", "rows", "sha256"]
