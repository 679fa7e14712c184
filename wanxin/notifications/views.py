"""Development-only pages."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from .selectors import sms_latest


@require_GET
def dev_sms(request: HttpRequest) -> HttpResponse:
    """The latest SMS kept, unmasked: the development stand-in for a phone, so the demo's
    registration, SMS login and password reset can be tried in a browser. 404 in production
    and whenever a real provider delivers the messages."""
    if settings.PRODUCTION or settings.SMS_BACKEND not in settings.SMS_SIMULATED_BACKENDS:
        raise Http404("Not available in production.")
    mobile = (request.GET.get("mobile") or "").strip() or None
    return render(request, "notifications/dev_sms.html",
                  {"messages_sent": sms_latest(limit=100, mobile=mobile), "mobile": mobile or "",
                   "backend": settings.SMS_BACKEND})
