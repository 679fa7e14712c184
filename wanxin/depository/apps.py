from django.apps import AppConfig


class DepositoryConfig(AppConfig):
    name = "wanxin.depository"
    label = "depository"
    verbose_name = "Depository (platform side)"

    def ready(self) -> None:
        from .results import QUERIES, results_register

        results_register(QUERIES)
