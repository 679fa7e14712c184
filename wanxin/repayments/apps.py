from django.apps import AppConfig


class RepaymentsConfig(AppConfig):
    name = "wanxin.repayments"
    label = "repayments"
    verbose_name = "Repayments (schedules, receivables, overdue, penalties)"

    def ready(self) -> None:
        from . import services  # noqa: F401  (registers the depository result handlers)
