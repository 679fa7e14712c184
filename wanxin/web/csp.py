"""Content-Security-Policy header (Django 5.2 has none built in).

The policy is ``settings.CONTENT_SECURITY_POLICY`` (directive -> sources). The hand-off pages
post a signed envelope to the bank, so the origin of ``settings.BANK_URL`` joins
``form-action`` when it is not this site. A response that already carries the header keeps it.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse

HEADER = "Content-Security-Policy"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def policy() -> str:
    directives = {name: list(sources) for name, sources in settings.CONTENT_SECURITY_POLICY.items()}
    bank = _origin(getattr(settings, "BANK_URL", ""))
    if bank and "form-action" in directives and bank not in directives["form-action"]:
        directives["form-action"].append(bank)
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if HEADER not in response:
            response[HEADER] = policy()
        return response
