from django.apps import AppConfig


class LendingConfig(AppConfig):
    name = "wanxin.lending"
    label = "lending"
    verbose_name = "Lending (applications, projects, tenders, disbursement)"

    def ready(self) -> None:
        from wanxin.depository.results import results_register

        from . import dashboard  # noqa: F401  (registers the dashboard tiles)
        from .results import RESULTS

        results_register(RESULTS)
