from django.apps import AppConfig
from django.core.signals import request_started


class AuditConfig(AppConfig):
    name = "wanxin.audit"
    label = "audit"
    verbose_name = "Audit"

    def ready(self) -> None:
        from .context import audit_context_clear

        # A request never inherits the audit address of an earlier one on the same thread.
        request_started.connect(audit_context_clear, dispatch_uid="audit-context")
