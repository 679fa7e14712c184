"""Login lockout (django-axes): how long is left, and the response a locked-out client gets.

``settings.AXES_LOCKOUT_CALLABLE`` points at ``lockout_response``. An entry point that has
already explained the lockout (the login page and API here) marks the request with
``explained``; its own response is then kept. Anything else gets a JSON error under
``/api/`` and a plain page elsewhere, both saying how many minutes to wait.
"""

from __future__ import annotations

import math

from axes.helpers import get_cool_off
from axes.models import AccessAttempt
from django.db.models import Max
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

_EXPLAINED = "wanxin_lockout_explained"


def minutes_left(request: HttpRequest, username: str | None) -> int:
    """Whole minutes until the lockout of ``username`` from this client ends (at least 1)."""
    cool_off = get_cool_off(request)
    if cool_off is None:
        return 0
    attempts = AccessAttempt.objects.all()
    if username:
        attempts = attempts.filter(username=username)
    ip = getattr(request, "axes_ip_address", None)
    if ip:
        attempts = attempts.filter(ip_address=ip)
    last = attempts.aggregate(last=Max("attempt_time"))["last"] or timezone.now()
    return max(1, math.ceil((last + cool_off - timezone.now()).total_seconds() / 60))


def message(request: HttpRequest, username: str | None, *, sms_hint: bool = False) -> str:
    minutes = minutes_left(request, username)
    if not minutes:
        return _("Too many failed logins: this account is locked. Please contact customer service.")
    if sms_hint:
        return ngettext(
            "Too many failed logins: this account is locked. Try again in %(minutes)d minute, or log in with an SMS code.",
            "Too many failed logins: this account is locked. Try again in %(minutes)d minutes, or log in with an SMS code.",
            minutes) % {"minutes": minutes}
    return ngettext("Too many failed logins: this account is locked. Try again in %(minutes)d minute.",
                    "Too many failed logins: this account is locked. Try again in %(minutes)d minutes.",
                    minutes) % {"minutes": minutes}


def explained(request: HttpRequest) -> None:
    setattr(request, _EXPLAINED, True)


def lockout_response(request: HttpRequest, original_response: HttpResponse | None = None,
                     credentials: dict | None = None) -> HttpResponse:
    if getattr(request, _EXPLAINED, False) and original_response is not None:
        return original_response
    text = message(request, (credentials or {}).get("username"))
    if request.path.startswith("/api/"):
        return JsonResponse({"code": "locked_out", "message": text}, status=429)
    return render(request, "accounts/locked_out.html", {"message": text}, status=429)
