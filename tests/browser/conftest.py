"""Headless Chromium for the browser tests (one browser per session, one page per test)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from wanxin.notifications import backends

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

# Playwright's sync API runs an event loop in this thread; Django would then refuse ORM
# calls from the test body ("You cannot call this from an async context").
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def chromium():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


# Every page reports what the Content-Security-Policy refused (inline script or style, a
# foreign origin) as a console error; a journey that met one fails.
CSP_LISTENER = """document.addEventListener("securitypolicyviolation", function (e) {
  console.error("Refused by the Content-Security-Policy: " + e.violatedDirective + " " + e.blockedURI
                + " at " + e.documentURI);
});"""


def csp_watch(page) -> list[str]:
    """The CSP violations ``page`` reports, as they come."""
    refused: list[str] = []
    page.add_init_script(CSP_LISTENER)
    page.on("console", lambda message: refused.append(message.text)
            if (message.type == "error" and "Content-Security-Policy" in message.text)
            or message.text.startswith("Refused to") else None)
    return refused


# The browser's language (Accept-Language): journeys run in both with
# ``@pytest.mark.parametrize("page", LANGUAGES, indirect=True)``; English unless asked.
LANGUAGES = ["zh-CN", "en-US"]


@pytest.fixture
def page(chromium, request):
    locale = getattr(request, "param", "en-US")
    context = chromium.new_context(viewport={"width": 1000, "height": 760}, locale=locale)
    context.set_default_timeout(15_000)
    page = context.new_page()
    refused = csp_watch(page)
    try:
        yield page
    finally:
        context.close()
    assert not refused, f"the Content-Security-Policy refused: {refused}"


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def journey_settings(live_urls, settings):
    """A journey's platform: its links to the live server, fast password hashing, SMS kept in
    memory (``backends.outbox``), emptied before and after."""
    settings.PLATFORM_BASE_URL = live_urls
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.SMS_BACKEND = "wanxin.notifications.backends.MemoryBackend"
    backends.outbox_clear()
    yield live_urls
    backends.outbox_clear()
