from django.apps import AppConfig


class RepaymentsConfig(AppConfig):
    name = "wanxin.repayments"
    label = "repayments"
    verbose_name = "Repayments (schedules, receivables, overdue, penalties)"

    def ready(self) -> None:
        from wanxin.depository.results import results_register, results_register_many
        from wanxin.lending.signals import loan_disbursed

        from . import dashboard  # noqa: F401  (registers the dashboard tiles)
        from .results import RESULTS
        from .results_many import RESULTS_MANY
        from .services import plans_on_loan_disbursed

        results_register(RESULTS)
        results_register_many(RESULTS_MANY)  # a BATCH's answers, a route at a time
        # Lending tells; repayments builds the plans in the same transaction.
        loan_disbursed.connect(plans_on_loan_disbursed, dispatch_uid="repayments.plans")
