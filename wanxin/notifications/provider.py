"""The SMS provider backend: a real gateway over HTTP (``SMS_PROVIDER_URL`` and
``SMS_PROVIDER_API_KEY``); refuses to send until both are configured.

Loaded only through ``settings.SMS_BACKEND``, so the HTTP client stays out of the import
graph of the apps that send SMS (only the depository app talks HTTP to the bank).
"""

from __future__ import annotations

import httpx
from django.conf import settings

from .backends import SmsBackend, SmsDeliveryError


class ProviderBackend(SmsBackend):
    """A placeholder for the carrier's HTTP API: POST JSON {mobile, text} with a bearer key.

    Adapt the request body to the chosen provider; the contract (raise on anything but a
    2xx answer) stays the same."""

    name = "provider"

    def send(self, mobile: str, text: str) -> None:
        url, key = settings.SMS_PROVIDER_URL, settings.SMS_PROVIDER_API_KEY
        if not url or not key:
            raise SmsDeliveryError(
                "the SMS provider is not configured: set SMS_PROVIDER_URL and SMS_PROVIDER_API_KEY"
            )
        try:
            response = httpx.post(
                url,
                json={"mobile": mobile, "text": text},
                headers={"Authorization": f"Bearer {key}"},
                timeout=settings.SMS_PROVIDER_TIMEOUT,
            )
        except httpx.HTTPError as exc:
            raise SmsDeliveryError(f"SMS provider unreachable: {exc}") from exc
        if not response.is_success:
            raise SmsDeliveryError(f"SMS provider answered {response.status_code}: {response.text[:200]}")
