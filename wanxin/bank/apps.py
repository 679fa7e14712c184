from django.apps import AppConfig


class BankConfig(AppConfig):
    name = "wanxin.bank"
    label = "bank"
    verbose_name = "Bank depository"
