from django.apps import AppConfig
from django.core.signals import request_started


class BackofficeConfig(AppConfig):
    name = "wanxin.backoffice"
    label = "backoffice"
    verbose_name = "Back office"

    def ready(self) -> None:
        from .services import audit_context_clear

        # A request never inherits the audit address of an earlier one on the same thread.
        request_started.connect(audit_context_clear, dispatch_uid="backoffice-audit-context")
