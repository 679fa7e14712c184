from django.apps import AppConfig


class FundsConfig(AppConfig):
    name = "wanxin.funds"
    label = "funds"
    verbose_name = "Funds (account, recharge, withdraw, fund records)"

    def ready(self) -> None:
        # Registers the depository result handlers (PERSONAL_REGISTER, RECHARGE, WITHDRAW).
        from . import services  # noqa: F401
