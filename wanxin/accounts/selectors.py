"""Reads about customers."""

from __future__ import annotations

from wanxin.core.identity import mask_mobile

from .models import User


def customer_profile(*, user: User) -> dict:
    """What the customer sees about themselves (the mobile masked)."""
    return {
        "username": user.username,
        "user_no": user.user_no or "",
        "mobile": mask_mobile(user.mobile) if user.mobile else "",
        "role": user.role,
        "role_label": user.get_role_display() if user.role else "",
        "date_joined": user.date_joined,
    }


def customer_count() -> int:
    """Registered customers (operators and staff are not customers)."""
    return User.objects.filter(is_operator=False, is_staff=False, is_superuser=False).count()
