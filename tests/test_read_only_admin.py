"""Money state, bank results and the audit trail are shown, never edited, in either admin (the
bank's console and the platform's): every such admin is the one ``wanxin.admin_support.ReadOnly``."""

from __future__ import annotations

import pytest
from django.contrib import admin

from wanxin.admin_support import ReadOnly
from wanxin.bank.admin import bank_console

READ_ONLY = {
    "bank.account", "bank.bankcard", "bank.bankrequest", "bank.transfer", "bank.balancechange", "bank.freeze",
    "bank.project", "bank.notification", "bank.statement",
    "lending.project", "lending.tender", "lending.disbursement",
    "repayments.repaymentplan", "repayments.receivableplan", "repayments.repayment",
    "depository.ignoredbankresult", "allocation.allocation",
    "audit.auditlog", "audit.rolegrant", "auth.group",
}


def registered() -> dict[str, admin.ModelAdmin]:
    return {f"{model._meta.app_label}.{model._meta.model_name}": model_admin
            for site in (admin.site, bank_console) for model, model_admin in site._registry.items()}


def test_every_money_and_audit_admin_is_the_shared_read_only_one():
    admins = registered()
    assert READ_ONLY <= admins.keys()
    assert {label for label in READ_ONLY if not isinstance(admins[label], ReadOnly)} == set()


@pytest.mark.django_db
def test_nothing_can_be_added_changed_or_deleted_through_them(rf, django_user_model):
    superuser = django_user_model.objects.create_superuser(username="root", password="x" * 12)
    request = rf.get("/")
    request.user = superuser
    for label in sorted(READ_ONLY):
        model_admin = registered()[label]
        assert not model_admin.has_add_permission(request), label
        assert not model_admin.has_change_permission(request), label
        assert not model_admin.has_delete_permission(request), label
        assert model_admin.has_view_permission(request), label
