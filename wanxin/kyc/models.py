"""A customer's KYC application, its qualification documents and the review decisions."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from wanxin.fields import EncryptedTextField

from . import domain


class KycApplication(models.Model):
    class Status(models.TextChoices):
        DRAFT = domain.Status.DRAFT.value, _("Draft")
        SUBMITTED = domain.Status.SUBMITTED.value, _("Submitted, awaiting review")
        APPROVED = domain.Status.APPROVED.value, _("Approved")
        REJECTED = domain.Status.REJECTED.value, _("Rejected")

    class Rating(models.TextChoices):
        AAA = "AAA"
        AA = "AA"
        A = "A"
        B = "B"
        C = "C"
        HR = "HR", _("HR (high risk)")

    customer = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                    related_name="kyc_application")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True)
    # Sensitive: encrypted at rest; the blind index finds the same ID number on another account.
    real_name = EncryptedTextField(blank=True, default="")
    id_number = EncryptedTextField(blank=True, default="")
    id_number_index = models.CharField(max_length=64, blank=True, default="", db_index=True)
    annual_income = models.BigIntegerField(null=True, blank=True, help_text="declared, fen")
    assets = models.BigIntegerField(null=True, blank=True, help_text="declared, fen")
    submitted_at = models.DateTimeField(null=True, blank=True)
    submission_count = models.PositiveIntegerField(default=0)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")
    review_reason = models.TextField(blank=True, default="")
    rating = models.CharField(max_length=3, choices=Rating.choices, blank=True, default="")
    rating_score = models.PositiveSmallIntegerField(null=True, blank=True)
    credit_limit = models.BigIntegerField(null=True, blank=True, help_text="borrowing limit, fen")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(status__in=["DRAFT", "SUBMITTED", "APPROVED", "REJECTED"]), name="kyc_status_known"),
            models.CheckConstraint(condition=Q(annual_income__isnull=True) | Q(annual_income__gte=0),
                                   name="kyc_income_not_negative"),
            models.CheckConstraint(condition=Q(assets__isnull=True) | Q(assets__gte=0), name="kyc_assets_not_negative"),
            models.CheckConstraint(
                condition=~Q(status="APPROVED") | (~Q(rating="") & Q(credit_limit__gte=0)),
                name="kyc_approved_has_rating_and_limit"),
            # One ID number is verified for one account only.
            models.UniqueConstraint(fields=["id_number_index"], condition=Q(status="APPROVED"),
                                    name="kyc_one_approved_per_id_number"),
        ]

    def __str__(self) -> str:
        return f"KYC #{self.pk} {self.status}"

    @property
    def editable(self) -> bool:
        return self.status in domain.EDITABLE


class KycDocument(models.Model):
    class Kind(models.TextChoices):
        ID_CARD_FRONT = domain.Kind.ID_CARD_FRONT.value, _(domain.KIND_LABELS[domain.Kind.ID_CARD_FRONT])
        ID_CARD_BACK = domain.Kind.ID_CARD_BACK.value, _(domain.KIND_LABELS[domain.Kind.ID_CARD_BACK])
        HOUSE_CERTIFICATE = domain.Kind.HOUSE_CERTIFICATE.value, _(domain.KIND_LABELS[domain.Kind.HOUSE_CERTIFICATE])
        BANK_STATEMENT = domain.Kind.BANK_STATEMENT.value, _(domain.KIND_LABELS[domain.Kind.BANK_STATEMENT])
        INCOME_PROOF = domain.Kind.INCOME_PROOF.value, _(domain.KIND_LABELS[domain.Kind.INCOME_PROOF])

    application = models.ForeignKey(KycApplication, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # A random name inside the private KYC storage; never derived from the upload's name.
    storage_name = models.CharField(max_length=200, unique=True)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    original_name = models.CharField(max_length=120, blank=True, default="")
    uploaded_at = models.DateTimeField(default=timezone.now)
    # Removed by the customer while editing; the file is kept for the review history.
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["kind", "id"]
        indexes = [models.Index(fields=["application", "removed_at"], name="kyc_doc_active_idx")]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"

    @property
    def kind_label(self) -> str:
        return gettext(domain.KIND_LABELS[domain.Kind(self.kind)])

    @property
    def type_label(self) -> str:
        return domain.TYPE_LABELS.get(self.content_type, self.content_type)


class KycReview(models.Model):
    """One operator decision on one submission (the customer sees decision and reason)."""

    class Decision(models.TextChoices):
        APPROVED = domain.Status.APPROVED.value, _("Approved")
        REJECTED = domain.Status.REJECTED.value, _("Rejected")

    application = models.ForeignKey(KycApplication, on_delete=models.CASCADE, related_name="reviews")
    decision = models.CharField(max_length=10, choices=Decision.choices)
    reason = models.TextField(blank=True, default="")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    rating = models.CharField(max_length=3, blank=True, default="")
    credit_limit = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(decision="REJECTED") | ~Q(reason=""),
                                   name="kyc_rejection_has_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.decision} #{self.application_id}"
