"""Customer pages: register, log in (password or SMS code), log out, reset password, profile."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login, logout
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from wanxin.audit.guards import customer_required
from wanxin.core.errors import WanxinError
from wanxin.core.identity import mask_mobile

from . import selectors, services, sms_codes
from .auth import client_ip
from .forms import LoginForm, PasswordResetForm, RegisterForm, SmsLoginForm

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
PAGES = {sms_codes.REGISTER: "accounts:register", sms_codes.LOGIN: "accounts:login_sms",
         sms_codes.RESET_PASSWORD: "accounts:password_reset"}


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return reverse("accounts:profile")


def _show_error(form: Form, exc: WanxinError) -> None:
    field = getattr(exc, "field", None)
    form.add_error(field if field in form.fields else None, exc.message)


def _send_code(request: HttpRequest, purpose: str) -> dict:
    """Text a code to the POSTed mobile number; the status line to show beside the button."""
    try:
        issued = services.sms_code_request(mobile=request.POST.get("mobile", ""), purpose=purpose,
                                           ip=client_ip(request))
    except WanxinError as exc:
        return {"ok": False, "text": exc.message}
    # The same words whether a code or a notice was sent: the page must not tell who is registered.
    return {"ok": True, "text": _("Message sent to %(mobile)s. If this number can be used here, it holds your "
                                  "code, valid for %(minutes)d minutes; otherwise it says why. You can ask "
                                  "for another in %(seconds)d seconds.") % {
        "mobile": mask_mobile(issued.mobile), "minutes": issued.expires_in // 60, "seconds": issued.resend_after}}


def _form_page(request: HttpRequest, form_class: type[Form], purpose: str | None, template: str,
               on_valid) -> HttpResponse:
    """GET shows the form; POST with ``action=send_code`` (the no-JavaScript path of the
    "Send code" button) texts a code and shows the form again; any other POST submits it."""
    sms_status, status = None, 200
    if request.method != "POST":
        form = form_class()
    elif purpose and request.POST.get("action") == "send_code":
        sms_status = _send_code(request, purpose)
        kept = {k: v for k, v in request.POST.items()
                if k in form_class.base_fields and "password" not in k and k != "code"}
        form = form_class(initial=kept)
    else:
        form = form_class(request.POST)
        if form.is_valid():
            try:
                return on_valid(form.cleaned_data)
            except WanxinError as exc:
                _show_error(form, exc)
                status = 429 if exc.code == "locked_out" else 200
    return render(request, template, {"form": form, "purpose": purpose, "sms_status": sms_status,
                                      "next": request.POST.get("next") or request.GET.get("next", "")},
                  status=status)


@require_http_methods(["GET", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    def done(data: dict) -> HttpResponse:
        user = services.customer_register(username=data["username"], password=data["password"],
                                          mobile=data["mobile"], code=data["code"], role=data["role"],
                                          ip=client_ip(request))
        login(request, user, backend=MODEL_BACKEND)
        messages.success(request, _("Welcome, %(name)s. Your account is ready.") % {"name": user.username})
        return redirect(_next_url(request))

    return _form_page(request, RegisterForm, sms_codes.REGISTER, "accounts/register.html", done)


@require_http_methods(["GET", "POST"])
def login_password(request: HttpRequest) -> HttpResponse:
    def done(data: dict) -> HttpResponse:
        user = services.customer_authenticate_password(request=request, login=data["username"],
                                                       password=data["password"])
        login(request, user, backend=MODEL_BACKEND)
        return redirect(_next_url(request))

    return _form_page(request, LoginForm, None, "accounts/login.html", done)


@require_http_methods(["GET", "POST"])
def login_sms(request: HttpRequest) -> HttpResponse:
    def done(data: dict) -> HttpResponse:
        user = services.customer_authenticate_sms(mobile=data["mobile"], code=data["code"])
        login(request, user, backend=MODEL_BACKEND)
        return redirect(_next_url(request))

    return _form_page(request, SmsLoginForm, sms_codes.LOGIN, "accounts/login_sms.html", done)


@require_http_methods(["GET", "POST"])
def password_reset(request: HttpRequest) -> HttpResponse:
    def done(data: dict) -> HttpResponse:
        services.customer_password_reset(mobile=data["mobile"], code=data["code"],
                                         new_password=data["new_password"])
        if request.user.is_authenticated:
            logout(request)
        messages.success(request, _("Your password has been changed. Please log in with the new one."))
        return redirect("accounts:login")

    return _form_page(request, PasswordResetForm, sms_codes.RESET_PASSWORD, "accounts/password_reset.html",
                      done)


@require_http_methods(["GET", "POST"])
def logout_view(request: HttpRequest) -> HttpResponse:
    """GET asks for confirmation; POST (CSRF-checked) logs out."""
    if request.method == "POST":
        logout(request)
        messages.info(request, _("You have logged out."))
        return redirect("home")
    if not request.user.is_authenticated:
        return redirect("accounts:login")
    return render(request, "accounts/logout.html")


@require_POST
def sms_code(request: HttpRequest) -> HttpResponse:
    """The "Send code" button (htmx): answers the status line; without htmx, back to the page."""
    purpose = request.POST.get("purpose", "")
    status = _send_code(request, purpose)
    if request.htmx:
        return render(request, "accounts/_sms_status.html", {"sms_status": status})
    (messages.success if status["ok"] else messages.error)(request, status["text"])
    return redirect(PAGES.get(purpose, "accounts:register"))


@never_cache
@customer_required
def profile(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/profile.html", {"profile": selectors.customer_profile(user=request.user)})
