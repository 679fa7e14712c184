"""Refuses, before any view runs, the request bodies and values no view can use: NUL
characters (PostgreSQL text cannot hold them), bodies over DATA_UPLOAD_MAX_MEMORY_SIZE, and
malformed multipart or form bodies. Each refusal is a 4xx naming what was wrong, as JSON under
/api/ and as a short page elsewhere; nothing has run, so nothing has changed."""

from __future__ import annotations

import json

from django.conf import settings
from django.core.exceptions import BadRequest, RequestDataTooBig, SuspiciousOperation
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from wanxin.core.bounds import NUL, has_nul, json_body_has_nul

# The bank speaks its own signed protocol and answers its own refusals.
_EXEMPT_PREFIXES = ("/bank/", "/static/")
_FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


def refusal(request: HttpRequest, status: int, code: str, message: str) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"code": code, "message": message}, status=status)
    html = render_to_string("web/refused.html", {"message": message, "status": status})
    return HttpResponse(html, status=status)


def too_big(request: HttpRequest) -> HttpResponse:
    limit_kb = settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 1024
    return refusal(request, 413, "too_large",
                   _("The request is too large: send at most %(kb)s KB (files excepted).") % {"kb": limit_kb})


def malformed(request: HttpRequest) -> HttpResponse:
    return refusal(request, 400, "malformed_body",
                   _("The request body could not be read; send well-formed JSON, a form, or "
                     "multipart/form-data with a boundary."))


def nul_refusal(request: HttpRequest, name: str | None) -> HttpResponse:
    if name is None:
        message = _("The request body contains a NUL character (\\u0000); remove it and try again.")
    else:
        message = _("The value of “%(name)s” contains a NUL character (\\u0000); remove it and try again.") % {
            "name": name}
    return refusal(request, 400, "nul_character", message)


class InputGuardMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(_EXEMPT_PREFIXES):
            try:
                refused = self._check(request)
            except RequestDataTooBig:
                return too_big(request)
            except (MultiPartParserError, BadRequest, SuspiciousOperation):
                return malformed(request)
            if refused is not None:
                return refused
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        # A view that reads the body later than this middleware (e.g. a streamed upload).
        # The bank answers in its own protocol (an unparsable envelope is its 400).
        if request.path.startswith(_EXEMPT_PREFIXES):
            return None
        if isinstance(exception, RequestDataTooBig):
            return too_big(request)
        if isinstance(exception, MultiPartParserError):
            return malformed(request)
        return None

    def _check(self, request: HttpRequest) -> HttpResponse | None:
        name = _nul_in(request.GET)
        if name is not None:
            return nul_refusal(request, name)
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return None
        content_type = request.content_type or ""
        if content_type in _FORM_TYPES:
            if content_type == "multipart/form-data" and not request.content_params.get("boundary"):
                return malformed(request)
            name = _nul_in(request.POST)
            if name is None:
                name = next((f.name for f in request.FILES.values() if has_nul(f.name)), None)
            return nul_refusal(request, name) if name is not None else None
        if json_body_has_nul(request.body):
            return nul_refusal(request, _json_field_with_nul(request.body))
        return None


def _json_field_with_nul(body: bytes) -> str | None:
    """The dotted path of the first JSON string (key or value) holding NUL, to name it in the
    refusal; None when the body is not JSON this can read (then the body as a whole is named)."""
    try:
        stack: list[tuple[str, object]] = [("", json.loads(body))]
    except (ValueError, RecursionError):
        return None
    while stack:
        path, value = stack.pop()
        if has_nul(value):
            return path or None
        items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
        for key, item in items:
            child = f"{path}.{key}" if path else str(key)
            if has_nul(key):
                return child.replace(NUL, "\\u0000")
            stack.append((child, item))
    return None


def _nul_in(values) -> str | None:
    """The first key (or the key of a value) holding NUL, if any."""
    for key, items in values.lists():
        if has_nul(key) or any(has_nul(v) for v in items):
            return key.replace("\x00", "\\u0000")
    return None
