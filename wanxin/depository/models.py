"""The platform's record of every request it makes to the bank."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from wanxin.fields import EncryptedJSONField, EncryptedTextField

# What a person is told a request is (its protocol serviceName is never shown).
SERVICE_LABELS = {
    "PERSONAL_REGISTER": _("account opening"),
    "RECHARGE": _("recharge"),
    "WITHDRAW": _("withdrawal"),
    "AUTHORIZE": _("authorisation"),
    "USER_AUTO_PRE_TRANSACTION": _("investment"),
}


class DepositoryRequest(models.Model):
    class Status(models.TextChoices):
        PENDING = "PENDING", _("Waiting for the bank")
        SUCCESS = "SUCCESS", _("Done")
        FAIL = "FAIL", _("Not done")

    request_no = models.CharField(max_length=64, unique=True)
    service_name = models.CharField(max_length=32)
    user_no = models.CharField(max_length=64, blank=True, db_index=True)
    amount = models.BigIntegerField(null=True, blank=True)
    # Encrypted: account-opening payloads carry the customer's name, ID and card numbers.
    payload = EncryptedJSONField(help_text="request data without requestNo and timestamp")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    resp_code = models.CharField(max_length=5, blank=True)
    resp_msg = models.CharField(max_length=300, blank=True)
    response = EncryptedJSONField(null=True, blank=True)
    applied_from = models.CharField(max_length=8, blank=True, help_text="sync, notify or query")
    # The signed gateway envelope, reused while still inside the bank's timestamp window.
    gateway_req_data = EncryptedTextField(blank=True)
    gateway_signature = models.TextField(blank=True)
    gateway_signed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "created_at"], name="dep_req_status_created")]

    def __str__(self) -> str:
        return f"{self.service_name} {self.request_no} {self.status}"

    @property
    def service_label(self) -> str:
        return SERVICE_LABELS.get(self.service_name, self.service_name)

    # Kept as a method too, for templates that read it like Django's get_FOO_display.
    def get_service_label(self) -> str:
        return self.service_label

    @property
    def is_final(self) -> bool:
        return self.status != self.Status.PENDING
