from django.contrib import admin

from wanxin.admin_support import ReadOnly

from .models import Disbursement, LoanProduct, Project, Tender


@admin.register(LoanProduct)
class LoanProductAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "borrower_rate", "investor_rate", "service_fee_rate", "window_days",
                    "min_investment", "increment", "per_investor_cap")


@admin.register(Project)
class ProjectAdmin(ReadOnly):
    list_display = ("project_no", "borrower", "amount", "raised", "status", "bank_status")
    list_filter = ("status",)
    search_fields = ("project_no", "name")


@admin.register(Tender)
class TenderAdmin(ReadOnly):
    list_display = ("project", "investor", "amount", "status", "request_no")
    list_filter = ("status",)


@admin.register(Disbursement)
class DisbursementAdmin(ReadOnly):
    list_display = ("project", "status", "commission", "proposed_by", "approved_by")
