"""Who is calling: browser sessions for pages, bearer tokens for API clients.

- API operations for customers: ``auth=customer_auth``; the customer is ``request.auth``.
- Pages for customers: ``@customer_required`` of ``wanxin.audit.guards`` (the one guard module).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from functools import cache

from axes.helpers import get_client_ip_address
from django.db import connection
from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer, SessionAuth

from .models import ApiToken, User

TOKEN_LIFETIME = dt.timedelta(days=30)


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def token_issue(*, user: User, name: str = "api") -> str:
    """Create a token; the plaintext is returned once and never stored."""
    key = secrets.token_urlsafe(32)
    ApiToken.objects.create(user=user, key_hash=_hash(key), name=name,
                            expires_at=timezone.now() + TOKEN_LIFETIME)
    return key


def token_revoke(*, key: str) -> bool:
    return ApiToken.objects.filter(key_hash=_hash(key)).delete()[0] > 0


def bearer_key(request: HttpRequest) -> str | None:
    """The bearer token of the request's Authorization header, if any."""
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return key.strip() or None


def client_ip(request: HttpRequest) -> str | None:
    """The client address as django-axes sees it (one notion of "client" for every limit)."""
    return get_client_ip_address(request)


# ``last_used_at`` is written at most once per this interval, so a burst of API calls
# with one token costs no write (and no commit) per request.
LAST_USED_RESOLUTION = dt.timedelta(seconds=60)


@cache
def _token_sql() -> tuple[str, list[str]]:
    """One fixed statement for the token and its user, which also notes the token's use at most
    once a minute (every API call runs it; the ORM's compilation of the select_related query
    cost more than the query itself, the separate UPDATE a round trip). Parameters: key hash,
    now, now, now − ``LAST_USED_RESOLUTION``."""
    # Raw rows skip field converters: refuse a user field that needs one (e.g. encrypted).
    converted = [f.name for f in User._meta.concrete_fields if hasattr(f, "from_db_value")]
    if converted:  # pragma: no cover - a guard for future fields
        raise RuntimeError(f"token lookup reads raw user columns; fields {converted} need converting")
    user_columns = [f.column for f in User._meta.concrete_fields]
    columns = ", ".join(f"u.{connection.ops.quote_name(c)}" for c in user_columns)
    tokens, active = ApiToken._meta.db_table, connection.ops.quote_name(User._meta.get_field("is_active").column)
    # The UPDATE touches a row (and so writes) only when the last noted use is a minute old;
    # of concurrent requests in that minute, at most one writes (its condition is rechecked).
    sql = (
        f"WITH hit AS (SELECT t.id AS token_id, {columns} FROM {tokens} t "  # noqa: S608 (model metadata)
        f"JOIN {User._meta.db_table} u ON u.id = t.user_id WHERE t.key_hash = %s AND t.expires_at > %s), "
        f"touched AS (UPDATE {tokens} SET last_used_at = %s FROM hit WHERE {tokens}.id = hit.token_id "
        f"AND hit.{active} AND ({tokens}.last_used_at IS NULL OR {tokens}.last_used_at < %s)) "
        "SELECT * FROM hit"
    )
    return sql, [f.attname for f in User._meta.concrete_fields]


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        now = timezone.now()
        sql, user_fields = _token_sql()
        with connection.cursor() as cur:
            cur.execute(sql, [_hash(token), now, now, now - LAST_USED_RESOLUTION])
            row = cur.fetchone()
        if row is None:
            return None
        user = User.from_db(connection.alias, user_fields, row[1:])
        if not user.is_active:
            return None
        request.user = user
        return user


class CustomerBearerToken(BearerToken):
    """A bearer token of a customer (never an operator's)."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        user = super().authenticate(request, token)
        return user if user is not None and user.is_customer else None


class CustomerSession(SessionAuth):
    """Session login (CSRF-checked for unsafe methods) of a customer, not an operator."""

    def authenticate(self, request: HttpRequest, key: str | None) -> User | None:
        user = super().authenticate(request, key)
        return user if user is not None and getattr(user, "is_customer", False) else None


# Use as ``auth=customer_auth`` on API operations.
customer_auth = [CustomerBearerToken(), CustomerSession()]
