"""Shared fixtures: both databases, a bank client speaking the real protocol, live servers."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from django.conf import settings

from wanxin.core.ids import new_request_no
from wanxin.protocol import envelope, signing
from wanxin.web import catalogues


def pytest_configure(config):
    # The pages are rendered through the compiled catalogues, as `make test` compiles them.
    catalogues.compile_all()


@pytest.fixture(autouse=True)
def _english_unless_asked(monkeypatch):
    """Chinese is the site's default language; most tests were written against the English
    texts, so the test thread and Django's test clients use English unless a test asks for
    another language (an Accept-Language header, a cookie or translation.override): the
    i18n tests in wanxin/web/tests do."""
    from django.test.client import RequestFactory
    from django.utils import translation

    base_environ = RequestFactory._base_environ

    def environ_in_english(self, **request):
        environ = base_environ(self, **request)
        environ.setdefault("HTTP_ACCEPT_LANGUAGE", "en")
        return environ

    monkeypatch.setattr(RequestFactory, "_base_environ", environ_in_english)
    with translation.override("en"):
        yield


@pytest.fixture
def platform_key():
    return signing.load_private_key(settings.PLATFORM_PRIVATE_KEY)


@pytest.fixture
def bank_key():
    return signing.load_public_key(settings.BANK_PUBLIC_KEY)


class Bank:
    """Speaks the direct protocol to the bank over a real HTTP transport."""

    def __init__(self, base_url: str, private_key, bank_key, http: httpx.Client):
        self.base_url, self.private_key, self.bank_key, self.http = base_url, private_key, bank_key, http

    def envelope(self, service: str, data: dict[str, Any], **overrides: Any) -> dict[str, str]:
        data = {"requestNo": new_request_no("T"), "timestamp": int(time.time() * 1000), **data}
        env = envelope.build_request(self.private_key, service_name=service, platform_no=settings.PLATFORM_NO,
                                     data=data).as_dict()
        env.update(overrides)
        return env

    def post(self, env: dict[str, Any] | str | bytes) -> httpx.Response:
        if isinstance(env, dict):
            return self.http.post(f"{self.base_url}/service", json=env)
        return self.http.post(f"{self.base_url}/service", content=env,
                              headers={"content-type": "application/json"})

    def open(self, response: httpx.Response) -> dict[str, Any]:
        assert response.status_code == 200, response.text
        return envelope.open_response(self.bank_key, response.json())

    def call(self, service: str, **data: Any) -> dict[str, Any]:
        return self.open(self.post(self.envelope(service, data)))


@pytest.fixture
def live_urls(live_server, settings):
    """Point platform and bank at each other through the live server (real HTTP)."""
    settings.BANK_URL = f"{live_server.url}/bank"
    settings.PLATFORM_NOTIFY_URL = f"{live_server.url}/api/v1/depository/notify"
    settings.BANK_PLATFORMS = {
        no: {**cfg, "notify_url": settings.PLATFORM_NOTIFY_URL} for no, cfg in settings.BANK_PLATFORMS.items()
    }
    return live_server.url


@pytest.fixture
def bank(live_urls, platform_key, bank_key):
    with httpx.Client(timeout=30) as http:
        yield Bank(f"{live_urls}/bank", platform_key, bank_key, http)
