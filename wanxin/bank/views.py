"""HTTP edge of the bank: the direct API, the browser gateway and its pages."""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from wanxin.core.money import format_fen
from wanxin.protocol import envelope, messages
from wanxin.protocol.codes import ProtocolError

from . import batch, gateway, handlers, processing
from .processing import EnvelopeRejected

log = logging.getLogger("wanxin.bank")


@csrf_exempt
@require_POST
def service(request: HttpRequest) -> HttpResponse:
    """``POST {bankUrl}/service``: HTTP 200 with a signed response for anything attributable."""
    if len(request.body) > envelope.MAX_BATCH_ENVELOPE_BYTES:  # other services: checked in verify()
        return JsonResponse({"error": "envelope too large"}, status=400)
    try:
        fields = envelope.parse_json(request.body)
    except ValueError as exc:  # RecursionError of deep nesting included (PROTOCOL §4: HTTP 400)
        return JsonResponse({"error": f"envelope is not JSON: {str(exc)[:120]}"}, status=400)
    try:
        verified = processing.verify(fields, allowed=messages.DIRECT_SERVICES)
    except EnvelopeRejected as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    except ProtocolError as exc:
        return JsonResponse(processing.sign(processing.refusal(fields, exc)))
    if verified.service_name == "BATCH":
        data = batch.execute_batch(verified)
    else:
        data = processing.execute_direct(verified, handlers.DIRECT[verified.service_name])
    return JsonResponse(processing.sign(data))


@never_cache  # the bank's page shows the request and carries the token that confirms it
@csrf_exempt
@require_POST
def gateway_entry(request: HttpRequest) -> HttpResponse:
    """``POST {bankUrl}/gateway``: the auto-submitted form from the platform's hand-off page."""
    fields = {name: request.POST.get(name, "") for name in envelope.ENVELOPE_FIELDS}
    try:
        page = gateway.open_request(fields)
    except EnvelopeRejected as exc:
        return _error(request, _("This request cannot be read."), str(exc), status=400)
    except ProtocolError as exc:
        return _error(request, _("This request was refused by the bank."), f"{exc.code}: {exc.message}")
    return _page(request, page)


@never_cache
@require_POST
def gateway_confirm(request: HttpRequest) -> HttpResponse:
    req = gateway.request_for_token(request.POST.get("token", ""))
    if req is None:
        return _error(request, _("This page has expired."), _("Start again from the platform."), status=400)
    form = {
        "action": request.POST.get("action", "confirm"),
        "password": request.POST.get("password", ""),
        "password_again": request.POST.get("password_again", ""),
        "auth": request.POST.getlist("auth"),
    }
    return _page(request, gateway.confirm(req.pk, form))


def _page(request: HttpRequest, page: gateway.Page) -> HttpResponse:
    data = page.req.req_data
    context = {
        "page": page,
        "req": page.req,
        "data": data,
        "service": page.req.service_name,
        "amount": format_fen(data["amount"]) if "amount" in data else "",
        "commission": format_fen(data.get("commission", 0)),
        "net": format_fen(data["amount"] - data.get("commission", 0)) if "amount" in data else "",
        "auth_choices": data.get("authList", []),
        "auth_checked": set(data.get("authList", []) if page.chosen is None else page.chosen),
        "result": page.req.response or {},
    }
    template = "bank/gateway_result.html" if page.finished else "bank/gateway_form.html"
    return render(request, template, context)


def _error(request: HttpRequest, title: str, detail: str, *, status: int = 200) -> HttpResponse:
    return render(request, "bank/gateway_error.html", {"title": title, "detail": detail}, status=status)


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "bank/home.html")
