"""Reads of the sending log."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import SmsMessage


def sms_latest(*, limit: int = 100, mobile: str | None = None) -> QuerySet[SmsMessage]:
    qs = SmsMessage.objects.all()
    if mobile:
        qs = qs.filter(mobile=mobile)
    return qs.order_by("-created_at", "-id")[:limit]
