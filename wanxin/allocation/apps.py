from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AllocationConfig(AppConfig):
    name = "wanxin.allocation"
    label = "allocation"
    verbose_name = _("Stock allocation")

    def ready(self) -> None:
        from . import dashboard, results  # noqa: F401  (dashboard tiles; depository result handlers)
