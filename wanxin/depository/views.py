"""Platform endpoints of the protocol: the notify receiver, the gateway hand-off page and
the page the bank sends the browser back to."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from wanxin.core.errors import NotFound
from wanxin.protocol import envelope, messages
from wanxin.protocol.codes import ProtocolError

from . import services
from .client import bank_public_key
from .models import DepositoryRequest, IgnoredBankResult

log = logging.getLogger("wanxin.depository")

# Fields a notification adds to the stored response (PROTOCOL §4a); not part of the result.
NOTIFICATION_FIELDS = ("serviceName", "notifiedAt")


@csrf_exempt
@require_POST
def notify(request: HttpRequest) -> HttpResponse:
    """Bank notifications: verify (§4a), apply idempotently, answer ``OK``."""
    try:
        body = envelope.parse_json(request.body)
        if not isinstance(body, dict) or body.get("serviceName") != "NOTIFY":
            raise ValueError("not a NOTIFY envelope")
        if body.get("platformNo") != settings.PLATFORM_NO:
            raise ValueError("notification for another platform")
        data = envelope.open_notification(bank_public_key(), body)
    except envelope.ResponseAsNotification as exc:
        services.result_ignore(resp_data=_readable(body), source="notify",
                               reason=IgnoredBankResult.Reason.RESPONSE_REPLAYED)
        return _refused(exc)
    except (ValueError, ProtocolError) as exc:
        return _refused(exc)
    result = {k: v for k, v in data.items() if k not in NOTIFICATION_FIELDS}
    try:
        services.result_apply(resp_data=result, source="notify", service_name=data["serviceName"])
    except services.ServiceMismatch as exc:
        return _refused(exc)
    except NotFound as exc:
        return HttpResponse(exc.message, status=404, content_type="text/plain")
    return HttpResponse("OK", content_type="text/plain")


def _refused(exc: Exception) -> HttpResponse:
    log.warning("refused a notification: %s", exc)
    return HttpResponse(f"refused: {exc}", status=400, content_type="text/plain")


def _readable(body: dict[str, Any]) -> dict[str, Any]:
    """The data of a signed response replayed as a notification (its signature verified)."""
    try:
        return envelope.decode_data(body["respData"])
    except ProtocolError:
        return {}


def owned_request(request: HttpRequest, request_no: str) -> DepositoryRequest:
    """A gateway request of the logged-in customer, or 404: anyone else (anonymous, another
    customer, an operator) sees what an unknown requestNo looks like. The hand-off envelope
    carries the customer's name, ID, card and mobile (PROTOCOL §4a)."""
    user = request.user
    user_no = getattr(user, "user_no", None)
    if user.is_authenticated and user_no and not getattr(user, "is_operator", False):
        record = DepositoryRequest.objects.filter(request_no=request_no, user_no=user_no,
                                                  service_name__in=messages.GATEWAY_SERVICES).first()
        if record is not None:
            return record
    raise Http404("No such request.")


@never_cache
@require_GET
def handoff(request: HttpRequest, request_no: str) -> HttpResponse:
    """The page that carries a gateway request to the bank in its owner's browser."""
    record = owned_request(request, request_no)
    try:
        fields = services.gateway_envelope(record=record)
    except services.AlreadyFinal as exc:
        return render(request, "depository/handoff_done.html", {"record": exc.record}, status=409)
    return render(
        request,
        "depository/handoff.html",
        {"action": f"{settings.BANK_URL.rstrip('/')}/gateway", "fields": fields, "record": record},
    )


@never_cache
@require_GET
def callback(request: HttpRequest) -> HttpResponse:
    """Where the bank sends the browser back. Informational only: no state changes here; the
    request's result is shown to its owner only."""
    try:
        record = owned_request(request, request.GET.get("requestNo", ""))
    except Http404:
        record = None
    return render(request, "depository/callback.html",
                  {"record": record, "resp_code": request.GET.get("respCode", "")},
                  status=200 if record is not None else 404)
