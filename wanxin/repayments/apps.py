from django.apps import AppConfig


class RepaymentsConfig(AppConfig):
    name = "wanxin.repayments"
    label = "repayments"
    verbose_name = "Repayments (schedules, receivables, overdue, penalties)"

    def ready(self) -> None:
        from wanxin.depository.results import results_register
        from wanxin.lending.signals import loan_disbursed

        from . import dashboard  # noqa: F401  (registers the dashboard tiles)
        from .results import RESULTS
        from .services import plans_on_loan_disbursed

        results_register(RESULTS)
        # Lending tells; repayments builds the plans in the same transaction.
        loan_disbursed.connect(plans_on_loan_disbursed, dispatch_uid="repayments.plans")
