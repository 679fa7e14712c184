from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReconciliationConfig(AppConfig):
    name = "wanxin.reconciliation"
    label = "reconciliation"
    verbose_name = _("Reconciliation with the bank")

    def ready(self) -> None:
        from . import dashboard  # noqa: F401  (registers the dashboard tile)
