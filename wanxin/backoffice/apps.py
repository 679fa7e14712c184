from django.apps import AppConfig


class BackofficeConfig(AppConfig):
    name = "wanxin.backoffice"
    label = "backoffice"
    verbose_name = "Back office"
