"""The client address behind a reverse proxy: X-Forwarded-For counts only from a trusted proxy,
for login lockouts (django-axes), SMS per-IP limits and (through axes) the back office's audit."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client, RequestFactory
from django.utils import timezone

from wanxin.accounts import sms_codes
from wanxin.accounts.client_address import client_address

from .conftest import MOBILE, PASSWORD

PROXY = "10.0.0.5"


def address(remote: str, forwarded: str | None = None) -> str | None:
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return client_address(RequestFactory().get("/", **extra))


def test_without_trusted_proxies_the_header_is_ignored(settings):
    settings.WANXIN_TRUSTED_PROXIES = []
    assert address("203.0.113.9", "198.51.100.1") == "203.0.113.9"


def test_a_spoofed_header_from_an_untrusted_peer_is_ignored(settings):
    settings.WANXIN_TRUSTED_PROXIES = [PROXY]
    assert address("203.0.113.9", "198.51.100.1") == "203.0.113.9"
    assert address("203.0.113.9", "10.0.0.5") == "203.0.113.9"


def test_from_a_trusted_proxy_the_hop_it_added_is_the_client(settings):
    settings.WANXIN_TRUSTED_PROXIES = ["10.0.0.0/24", "2001:db8::/32"]
    assert address(PROXY, "198.51.100.1") == "198.51.100.1"
    # What the client wrote itself sits further left and is never reached.
    assert address(PROXY, "1.2.3.4, 198.51.100.1") == "198.51.100.1"
    # A chain of trusted proxies is walked through to the first untrusted hop.
    assert address(PROXY, "1.2.3.4, 198.51.100.1, 10.0.0.7") == "198.51.100.1"
    assert address("2001:db8::1", " 2001:db8:ffff::1 , 2001:db8::2") == "2001:db8:ffff::1"
    assert address("2001:db8::1", "2400:cb00::7") == "2400:cb00::7"


def test_a_missing_or_unreadable_header_leaves_the_last_trusted_address(settings):
    settings.WANXIN_TRUSTED_PROXIES = ["10.0.0.0/24"]
    assert address(PROXY) == PROXY
    assert address(PROXY, "") == PROXY
    assert address(PROXY, "not-an-ip") == PROXY
    assert address(PROXY, "198.51.100.1, junk, 10.0.0.7") == "10.0.0.7"


# -- as the limits see it ------------------------------------------------------------------


def fail_logins(client: Client, n: int, **headers) -> None:
    for _ in range(n):
        client.post("/accounts/login", {"username": "alice", "password": "wrong-password"}, **headers)


@pytest.mark.django_db
def test_spoofed_headers_do_not_escape_or_spread_a_lockout(customer, settings):
    """From an untrusted peer each failure counts against the peer, whatever header it sends."""
    settings.WANXIN_TRUSTED_PROXIES = [PROXY]
    attacker = Client(REMOTE_ADDR="203.0.113.9")
    for n in range(settings.AXES_FAILURE_LIMIT):
        fail_logins(attacker, 1, HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")
    answer = attacker.post("/accounts/login", {"username": "alice", "password": PASSWORD},
                           HTTP_X_FORWARDED_FOR="198.51.100.200")
    assert answer.status_code == 429
    # Nobody else was locked out by those names.
    owner = Client(REMOTE_ADDR="203.0.113.10")
    assert owner.post("/accounts/login", {"username": "alice", "password": PASSWORD}).status_code == 302


@pytest.mark.django_db
def test_behind_a_trusted_proxy_the_lockout_is_per_real_client(customer, settings):
    settings.WANXIN_TRUSTED_PROXIES = [PROXY]
    through_proxy = Client(REMOTE_ADDR=PROXY)
    fail_logins(through_proxy, settings.AXES_FAILURE_LIMIT, HTTP_X_FORWARDED_FOR="198.51.100.66")
    locked = through_proxy.post("/accounts/login", {"username": "alice", "password": PASSWORD},
                                HTTP_X_FORWARDED_FOR="198.51.100.66")
    assert locked.status_code == 429
    # The owner reaches the site through the same proxy and is not locked out.
    owner = Client(REMOTE_ADDR=PROXY)
    answer = owner.post("/accounts/login", {"username": "alice", "password": PASSWORD},
                        HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert answer.status_code == 302


@pytest.mark.django_db
def test_sms_per_ip_limit_counts_the_real_client(client, settings, outbox):
    settings.WANXIN_TRUSTED_PROXIES = [PROXY]

    def ask(mobile: str, remote: str, forwarded: str):
        return Client(REMOTE_ADDR=remote).post(
            "/api/v1/accounts/sms-code", {"mobile": mobile, "purpose": "register"},
            content_type="application/json", HTTP_X_FORWARDED_FOR=forwarded)

    assert ask(MOBILE, PROXY, "198.51.100.7").status_code == 200
    assert ask("13900139000", "203.0.113.9", "198.51.100.7").status_code == 200
    day = timezone.localdate()
    assert cache.get(sms_codes.daily_ip_key("198.51.100.7", day)) == 1  # through the proxy
    assert cache.get(sms_codes.daily_ip_key("203.0.113.9", day)) == 1  # spoofed: the peer counts
    assert cache.get(sms_codes.daily_ip_key(PROXY, day)) is None
