from django.apps import AppConfig


class FundsConfig(AppConfig):
    name = "wanxin.funds"
    label = "funds"
    verbose_name = "Funds (account, recharge, withdraw, fund records)"

    def ready(self) -> None:
        from wanxin.depository.results import results_register

        from .results import RESULTS

        results_register(RESULTS)
