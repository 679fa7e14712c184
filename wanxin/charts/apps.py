from django.apps import AppConfig


class ChartsConfig(AppConfig):
    name = "wanxin.charts"
    label = "charts"
    verbose_name = "Charts"
