from django.apps import AppConfig


class FundsConfig(AppConfig):
    name = "wanxin.funds"
    label = "funds"
