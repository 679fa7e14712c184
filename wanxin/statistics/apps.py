from django.apps import AppConfig


class StatisticsConfig(AppConfig):
    name = "wanxin.statistics"
    label = "statistics"
    verbose_name = "Platform statistics and public disclosure"

    def ready(self) -> None:
        from . import dashboard  # noqa: F401  (registers the dashboard tiles)
