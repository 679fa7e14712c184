from django.apps import AppConfig


class DepositoryConfig(AppConfig):
    name = "wanxin.depository"
    label = "depository"
    verbose_name = "Depository (platform side)"
