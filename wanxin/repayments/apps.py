from django.apps import AppConfig


class RepaymentsConfig(AppConfig):
    name = "wanxin.repayments"
    label = "repayments"
    verbose_name = "Repayments (schedules, receivables, overdue, penalties)"
