"""Platform endpoints of the protocol: the notify receiver and the gateway hand-off page."""

from __future__ import annotations

import json
import logging

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from wanxin.core.errors import NotFound
from wanxin.protocol import envelope, messages
from wanxin.protocol.codes import ProtocolError

from . import services
from .client import bank_public_key
from .models import DepositoryRequest

log = logging.getLogger("wanxin.depository")


@csrf_exempt
@require_POST
def notify(request: HttpRequest) -> HttpResponse:
    """Bank notifications: verify, apply idempotently, answer ``OK``."""
    try:
        body = json.loads(request.body)
        if not isinstance(body, dict) or body.get("serviceName") != "NOTIFY":
            raise ValueError("not a NOTIFY envelope")
        if body.get("platformNo") != settings.PLATFORM_NO:
            raise ValueError("notification for another platform")
        resp_data = envelope.open_response(bank_public_key(), body)
    except (ValueError, ProtocolError) as exc:
        log.warning("refused a notification: %s", exc)
        return HttpResponse(f"refused: {exc}", status=400, content_type="text/plain")
    try:
        services.result_apply(resp_data=resp_data, source="notify")
    except NotFound as exc:
        return HttpResponse(exc.message, status=404, content_type="text/plain")
    return HttpResponse("OK", content_type="text/plain")


def handoff(request: HttpRequest, request_no: str) -> HttpResponse:
    """The page that carries a gateway request to the bank in the customer's browser."""
    record = get_object_or_404(DepositoryRequest, request_no=request_no)
    if record.service_name not in messages.GATEWAY_SERVICES:
        raise Http404("not a gateway request")
    try:
        fields = services.gateway_envelope(record=record)
    except services.AlreadyFinal as exc:
        return render(request, "depository/handoff_done.html", {"record": exc.record}, status=409)
    return render(
        request,
        "depository/handoff.html",
        {"action": f"{settings.BANK_URL.rstrip('/')}/gateway", "fields": fields, "record": record},
    )


def callback(request: HttpRequest) -> HttpResponse:
    """Where the bank sends the browser back. Informational only: no state changes here."""
    request_no = request.GET.get("requestNo", "")
    record = DepositoryRequest.objects.filter(request_no=request_no).first()
    return render(request, "depository/callback.html",
                  {"record": record, "resp_code": request.GET.get("respCode", "")})
