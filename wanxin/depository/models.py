"""The platform's record of every request it makes to the bank."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
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
    # The business object this request serves, named when it is created: its model's label
    # (``lending.tender``) and primary key. The result is routed by (owner_type, service_name)
    # to exactly one handler (``depository.results``); a request with no business effect of
    # its own (a query) has no owner.
    owner_type = models.CharField(max_length=64, blank=True)
    owner_id = models.BigIntegerField(null=True, blank=True)
    # Sent by the outbox sender as part of a BATCH (decision record 0007), not by the process
    # that created it; ``claimed_at``: when a sender took it (None once released),
    # ``batch_no``: that BATCH; ``retry_at``: sent without an answer, not sent again before.
    outbox = models.BooleanField(default=False, db_default=False)
    claimed_at = models.DateTimeField(null=True, blank=True)
    retry_at = models.DateTimeField(null=True, blank=True)
    batch_no = models.CharField(max_length=64, blank=True, db_default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "created_at"], name="dep_req_status_created"),
                   models.Index(fields=["owner_type", "owner_id"], name="dep_req_owner"),
                   # What the sender claims: small, only the requests still waiting for it.
                   models.Index(fields=["id"], condition=models.Q(status="PENDING", outbox=True),
                                name="dep_req_outbox_waiting")]

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


class IgnoredBankResult(models.Model):
    """A bank-signed result the platform would not apply (PROTOCOL §4a), one row each.

    The bank signs its refusals of requests it never recorded (``00003``–``00005``) and echoes
    their ``requestNo``; such a code reaching us by notification or ``QUERY_REQUEST`` says
    nothing about our request, and a response posted as a notification is a replay. Operators
    count these rows (back-office admin): a steady trickle means someone is trying."""

    class Reason(models.TextChoices):
        UNRECORDED_CODE = "UNRECORDED_CODE", "code the bank never records"
        RESPONSE_REPLAYED = "RESPONSE_REPLAYED", "response posted as a notification"
        # Applied to the record, but no business object took it (depository.results):
        UNROUTED = "UNROUTED", "no handler for its owner and service"
        OWNER_GONE = "OWNER_GONE", "its owner no longer exists"
        REPEATED = "REPEATED", "a final result for a settled request"
        CONTRADICTED = "CONTRADICTED", "another outcome than the one applied"

    request_no = models.CharField(max_length=64, blank=True, db_index=True)
    source = models.CharField(max_length=8, help_text="sync, notify or query")
    reason = models.CharField(max_length=20, choices=Reason.choices)
    resp_code = models.CharField(max_length=8, blank=True)
    resp_msg = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return f"{self.reason} {self.resp_code} {self.request_no} via {self.source}"


class IdempotencyKey(models.Model):
    """A customer's submit key (``Idempotency-Key`` header or a form's one-time token), kept
    with the object it created in the same transaction (``depository.idempotency``).

    The unique (user, scope, key) index is the guard: a second submit with the key waits on
    it while the first is in flight and then finds the first one's object, so a process killed
    at any point leaves either nothing (a retry places it) or the key with its object (a retry
    gets that object back). ``fingerprint`` is the SHA-256 of what was asked, so the same key
    sent with another body is refused. Rows older than a day are deleted by a job."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    scope = models.CharField(max_length=32, help_text="what the key submits, e.g. lending.bid")
    key = models.CharField(max_length=64)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the request's fields")
    object_type = models.CharField(max_length=64, blank=True, help_text="model label of the created object")
    object_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "scope", "key"], name="dep_idempotency_unique")]

    def __str__(self) -> str:
        return f"{self.scope} {self.key} → {self.object_type} {self.object_id}"
