from django.apps import AppConfig


class TargetsConfig(AppConfig):
    name = "wanxin.targets"
    label = "targets"
    verbose_name = "Target (标的) management"

    def ready(self) -> None:
        from . import dashboard  # noqa: F401  (registers the dashboard tiles)
