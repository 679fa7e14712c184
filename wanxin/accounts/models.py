"""People: customers (investors, borrowers) and operators share one user table."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    class Role(models.TextChoices):
        INVESTOR = "INVESTOR", _("Investor")
        BORROWER = "BORROWER", _("Borrower")
        BOTH = "BOTH", _("Investor and borrower")

    mobile = models.CharField(max_length=11, unique=True, null=True, blank=True)
    # The customer's userNo at the depository bank (stable, never reused).
    user_no = models.CharField(max_length=32, unique=True, null=True, blank=True)
    role = models.CharField(max_length=10, choices=Role.choices, blank=True)
    is_operator = models.BooleanField(default=False, help_text="back-office operator, not a customer")
    # The administrator who created this operator (null: the system or a customer sign-up);
    # the checker of a money action may not be an operator its maker created.
    created_by = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    def __str__(self) -> str:
        return self.username

    @property
    def is_customer(self) -> bool:
        """Customers use the customer site and API; operators and admins never do."""
        return not (self.is_operator or self.is_staff or self.is_superuser)


class ApiToken(models.Model):
    """A bearer token for API clients; only its SHA-256 is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=60, default="api")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.user} {self.name}"
