"""Fixtures: a private cache namespace per test (removed after), the SMS outbox, customers."""

from __future__ import annotations

import re
import uuid

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.hashers import Argon2PasswordHasher
from django.core.cache import cache

from wanxin.accounts.models import User
from wanxin.notifications import backends

PASSWORD = "Plum-Harbour-42!"
MOBILE = "13800138000"


def _delete_prefixed(prefix: str) -> None:
    if "redis" in django_settings.CACHES["default"]["BACKEND"].lower():
        import redis

        client = redis.Redis.from_url(django_settings.REDIS_URL)
        keys = list(client.scan_iter(match=cache.make_key(prefix) + "*", count=500))
        if keys:
            client.delete(*keys)
        client.close()
    else:  # the database cache lives in the test database
        cache.clear()


class QuickArgon2PasswordHasher(Argon2PasswordHasher):
    """Argon2 still (hashes read ``argon2$...``), with test-sized cost: each login checks one."""

    time_cost = 1
    memory_cost = 1024
    parallelism = 1


@pytest.fixture(autouse=True)
def quick_hashing(settings):
    settings.PASSWORD_HASHERS = [f"{__name__}.QuickArgon2PasswordHasher"]


@pytest.fixture(autouse=True)
def sms_env(settings):
    """Codes and counters under a key prefix of this test only; the memory SMS backend."""
    prefix = f"wx:sms:test:{uuid.uuid4().hex}:"
    settings.SMS_CACHE_PREFIX = prefix
    settings.SMS_BACKEND = "wanxin.notifications.backends.MemoryBackend"
    backends.outbox_clear()
    yield prefix
    backends.outbox_clear()
    _delete_prefixed(prefix)


@pytest.fixture
def outbox():
    return backends.outbox


def last_code(mobile: str) -> str:
    """The code in the latest SMS sent to ``mobile``."""
    texts = [m.text for m in backends.outbox if m.mobile == mobile]
    assert texts, f"no SMS was sent to {mobile}"
    return re.search(r"\b(\d{6})\b", texts[-1]).group(1)


def make_customer(username: str = "alice", mobile: str = MOBILE, password: str = PASSWORD,
                  role: str = User.Role.INVESTOR, **extra) -> User:
    return User.objects.create_user(username=username, password=password, mobile=mobile, role=role,
                                    user_no=f"WX{uuid.uuid4().hex[:14].upper()}", **extra)


@pytest.fixture
def customer(db) -> User:
    return make_customer()


@pytest.fixture
def operator(db) -> User:
    return make_customer(username="op_li", mobile="13900139000", role="", is_operator=True)
