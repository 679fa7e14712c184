from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AllocationConfig(AppConfig):
    name = "wanxin.allocation"
    label = "allocation"
    verbose_name = _("Stock allocation")

    def ready(self) -> None:
        from wanxin.depository.results import results_register

        from . import dashboard  # noqa: F401  (dashboard tiles)
        from .results import RESULTS

        results_register(RESULTS)  # the bank results allocation owns (docs/decisions/0004)
