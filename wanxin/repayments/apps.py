from django.apps import AppConfig


class RepaymentsConfig(AppConfig):
    name = "wanxin.repayments"
    label = "repayments"
    verbose_name = "Repayments (schedules, receivables, overdue, penalties)"

    def ready(self) -> None:
        from . import dashboard, services  # noqa: F401  (register the dashboard tiles and depository result handlers)
