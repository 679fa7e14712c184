from django.contrib import admin

from wanxin.admin_support import ReadOnly

from .models import ReceivablePlan, Repayment, RepaymentPlan


@admin.register(RepaymentPlan)
class RepaymentPlanAdmin(ReadOnly):
    list_display = ("project", "number", "due_date", "principal", "interest", "penalty", "status", "repayment")
    list_filter = ("status",)


@admin.register(ReceivablePlan)
class ReceivablePlanAdmin(ReadOnly):
    list_display = ("plan", "tender", "investor", "number", "due_date", "principal", "interest", "status")
    list_filter = ("status",)


@admin.register(Repayment)
class RepaymentAdmin(ReadOnly):
    list_display = ("request_no", "project", "kind", "status", "total", "commission", "auto", "created_at")
    list_filter = ("status", "kind")
