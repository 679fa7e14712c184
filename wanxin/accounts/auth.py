"""Who is calling: browser sessions for pages, bearer tokens for API clients."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer, SessionAuth

from .models import ApiToken, User

TOKEN_LIFETIME = dt.timedelta(days=30)


def token_issue(*, user: User, name: str = "api") -> str:
    """Create a token; the plaintext is returned once and never stored."""
    key = secrets.token_urlsafe(32)
    ApiToken.objects.create(user=user, key_hash=hashlib.sha256(key.encode()).hexdigest(), name=name,
                            expires_at=timezone.now() + TOKEN_LIFETIME)
    return key


def token_revoke(*, key: str) -> bool:
    return ApiToken.objects.filter(key_hash=hashlib.sha256(key.encode()).hexdigest()).delete()[0] > 0


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        found = (
            ApiToken.objects.select_related("user")
            .filter(key_hash=hashlib.sha256(token.encode()).hexdigest(), expires_at__gt=timezone.now())
            .first()
        )
        if found is None or not found.user.is_active:
            return None
        ApiToken.objects.filter(pk=found.pk).update(last_used_at=timezone.now())
        request.user = found.user
        return found.user


class CustomerSession(SessionAuth):
    """Session login (CSRF-checked for unsafe methods) of a customer, not an operator."""

    def authenticate(self, request: HttpRequest, key: str | None) -> User | None:
        user = super().authenticate(request, key)
        return user if user is not None and not getattr(user, "is_operator", False) else None


# Use as ``auth=customer_auth`` on API operations.
customer_auth = [BearerToken(), CustomerSession()]
