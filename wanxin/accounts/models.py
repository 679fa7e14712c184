"""People: customers (investors, borrowers) and operators share one user table."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    class Role(models.TextChoices):
        INVESTOR = "INVESTOR", "Investor"
        BORROWER = "BORROWER", "Borrower"
        BOTH = "BOTH", "Investor and borrower"

    mobile = models.CharField(max_length=11, unique=True, null=True, blank=True)
    # The customer's userNo at the depository bank (stable, never reused).
    user_no = models.CharField(max_length=32, unique=True, null=True, blank=True)
    role = models.CharField(max_length=10, choices=Role.choices, blank=True)
    is_operator = models.BooleanField(default=False, help_text="back-office operator, not a customer")

    def __str__(self) -> str:
        return self.username
