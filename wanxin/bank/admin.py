"""The bank staff console: a separate admin site over the bank's models.
Ledger history is read-only; the one write is funding PLATFORM_CAPITAL. Money is shown in
yuan (the rows keep fen), statuses by their labels, every label translatable."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from wanxin.admin_support import ReadOnly
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
    site_header = _("Huaxin Depository Bank · staff console")
    site_title = _("Bank console")
    index_title = _("Accounts, ledger, notifications, statements")

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
            messages.success(request, gettext("PLATFORM_CAPITAL funded with %(amount)s (%(request)s).")
                             % {"amount": format_fen(req.amount), "request": req.request_no})
            return redirect("bank_console:bank_account_changelist")
        return render(request, "bank/fund_capital.html", {**self.each_context(request), "form": form,
                                                          "title": gettext("Fund PLATFORM_CAPITAL")})


class FundCapitalForm(forms.Form):
    platform_no = forms.ChoiceField(label=_("Platform"), choices=())
    amount_fen = forms.IntegerField(min_value=1, max_value=10**13, label=_("Amount (fen)"),
                                    help_text=_("In fen: 100 fen = ¥1.00."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["platform_no"].choices = [(p, p) for p in settings.BANK_PLATFORMS]


bank_console = BankConsole(name="bank_console")


def _money(field: str, description):
    """A list column showing the fen field ``field`` in yuan."""

    @admin.display(description=description, ordering=field)
    def show(self, obj):
        value = getattr(obj, field)
        return "—" if value is None else format_fen(value)

    show.__name__ = f"shown_{field}"
    return show


@admin.register(Account, site=bank_console)
class AccountAdmin(ReadOnly):
    list_display = ["platform_no", "account_no", "kind", "status", "shown_available", "shown_frozen", "masked_name"]
    list_filter = ["platform_no", "kind", "status"]
    search_fields = ["account_no", "mobile"]
    exclude = ["trade_password", "id_number"]
    shown_available = _money("available", _("available"))
    shown_frozen = _money("frozen", _("frozen"))

    @admin.display(description=_("name"))
    def masked_name(self, obj):
        return (obj.full_name[:1] + "*" * (len(obj.full_name) - 1)) if obj.full_name else ""


@admin.register(BankCard, site=bank_console)
class BankCardAdmin(ReadOnly):
    list_display = ["account", "bank_code", "masked_number", "shown_balance"]
    exclude = ["card_number"]
    shown_balance = _money("balance", _("balance"))


@admin.register(BankRequest, site=bank_console)
class BankRequestAdmin(ReadOnly):
    list_display = ["request_no", "platform_no", "service_name", "status", "resp_code", "shown_amount", "finished_at"]
    list_filter = ["service_name", "status", "platform_no"]
    search_fields = ["request_no", "user_no"]
    shown_amount = _money("amount", _("amount"))


@admin.register(Transfer, site=bank_console)
class TransferAdmin(ReadOnly):
    list_display = ["id", "request", "debit", "credit", "shown_amount", "freeze", "created_at"]
    list_select_related = ["request", "debit", "credit", "freeze__request"]
    shown_amount = _money("amount", _("amount"))


@admin.register(BalanceChange, site=bank_console)
class BalanceChangeAdmin(ReadOnly):
    list_display = ["id", "account", "request", "shown_delta_available", "shown_delta_frozen",
                    "shown_available_after", "shown_frozen_after"]
    list_filter = ["account__kind"]
    list_select_related = ["account", "request"]
    shown_delta_available = _money("delta_available", _("available change"))
    shown_delta_frozen = _money("delta_frozen", _("frozen change"))
    shown_available_after = _money("available_after", _("available after"))
    shown_frozen_after = _money("frozen_after", _("frozen after"))


@admin.register(Freeze, site=bank_console)
class FreezeAdmin(ReadOnly):
    list_display = ["request", "account", "biz_type", "project_no", "shown_amount", "shown_remaining", "status"]
    list_filter = ["status", "biz_type"]
    list_select_related = ["request", "account"]
    shown_amount = _money("amount", _("amount"))
    shown_remaining = _money("remaining", _("remaining"))


@admin.register(Project, site=bank_console)
class ProjectAdmin(ReadOnly):
    list_display = ["project_no", "platform_no", "name", "shown_amount", "shown_rate", "periods", "status"]
    shown_amount = _money("amount", _("amount"))

    @admin.display(description=_("annual rate"), ordering="annual_rate")
    def shown_rate(self, obj):
        return f"{(obj.annual_rate * 100).quantize(Decimal('0.01'))}%"


@admin.register(Notification, site=bank_console)
class NotificationAdmin(ReadOnly):
    list_display = ["request_no", "platform_no", "status", "attempts", "next_attempt_at", "last_error"]
    list_filter = ["status"]


@admin.register(Statement, site=bank_console)
class StatementAdmin(ReadOnly):
    list_display = ["platform_no", "date", "rows", "sha256"]
