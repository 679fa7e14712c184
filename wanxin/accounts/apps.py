from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "wanxin.accounts"
    label = "accounts"
    verbose_name = "Customers and operators"
