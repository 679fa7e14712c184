"""The sending log: one row for every SMS handed to (or refused by) the backend."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class SmsMessage(models.Model):
    class Status(models.TextChoices):
        SENT = "SENT", _("Sent")
        FAILED = "FAILED", _("Failed")

    mobile = models.CharField(max_length=11, db_index=True)
    purpose = models.CharField(max_length=40, help_text="why it was sent, e.g. register, login")
    # Secrets (verification codes) are replaced by asterisks when SMS_LOG_REDACT_SECRETS is on.
    text = models.TextField()
    backend = models.CharField(max_length=40)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SENT)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.mobile} {self.purpose} {self.status}"
