"""The append-only, hash-chained audit log and the role grants the duty checks read.

Both tables were created by the back office and keep their names (``db_table``): the
append-only trigger of ``backoffice`` migration 0002 stays on ``backoffice_auditlog``."""

from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .actions import action_label


class AuditLog(models.Model):
    """One row per operator (or system) action. Rows are never changed or deleted: the model
    refuses it and a database trigger refuses it for any other client. Each row carries the
    hash of the row before it (``chain``), so an edit, a deletion or an insertion made behind
    the trigger's back is found by ``manage.py audit_verify``."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    # PROTECT: an operator with history is deactivated, never deleted. Null = the system.
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+")
    actor_username = models.CharField(max_length=150, blank=True)
    # An ``AuditAction`` value; no choices on the column, so adding an action needs no migration.
    action = models.CharField(max_length=64, db_index=True)
    target_type = models.CharField(max_length=100)
    target_id = models.CharField(max_length=64)
    before = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    after = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    ip = models.GenericIPAddressField(null=True, blank=True)
    prev_hash = models.CharField(max_length=64)
    row_hash = models.CharField(max_length=64)

    class Meta:
        db_table = "backoffice_auditlog"
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["target_type", "target_id"], name="audit_target_idx"),
            models.Index(fields=["actor", "-at"], name="audit_actor_at_idx"),
        ]
        constraints = [
            # One successor per row: two appends that raced past the chain lock could not both land.
            models.UniqueConstraint(fields=["prev_hash"], name="audit_chain_one_successor"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_username or 'system'} {self.action} {self.target_type}#{self.target_id}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise RuntimeError("audit log rows are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuntimeError("audit log rows are append-only")

    def action_label(self) -> str:
        return action_label(self.action)


class RoleGrant(models.Model):
    """Giving an operator a role that needs a second administrator (``roles.
    role_needs_confirmation``): proposed by one, confirmed by another; only the
    confirmation puts the operator in the role. Kept forever: who granted whom what is what
    the duty checks (``duties``) read. Proposer and confirmer null = the system (seed and
    ``create_operator`` command)."""

    class Status(models.TextChoices):
        PENDING = "PENDING", _("Awaiting confirmation")
        CONFIRMED = "CONFIRMED", _("Confirmed")
        CANCELLED = "CANCELLED", _("Cancelled")

    operator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="role_grants")
    role = models.CharField(max_length=80)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")
    proposed_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "backoffice_rolegrant"
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["operator", "role"], condition=models.Q(status="PENDING"),
                                    name="rolegrant_one_pending"),
            # The database, too, refuses a grant confirmed by its own proposer.
            models.CheckConstraint(
                condition=~models.Q(status="CONFIRMED", proposed_by__isnull=False, decided_by=models.F("proposed_by")),
                name="rolegrant_second_person"),
        ]

    def __str__(self) -> str:
        return f"{self.role} for {self.operator_id} ({self.status})"
