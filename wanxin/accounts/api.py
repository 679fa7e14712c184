"""JSON API of the accounts app (mounted by wanxin/api.py at /api/v1/accounts).

Clients ask for an SMS code, register or log in, and then send the returned token as
``Authorization: Bearer <token>``. Refusals answer ``{"code", "message"}`` with a 4xx status.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import logout as session_logout
from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.responses import Status

from wanxin.core.identity import mask_mobile

from . import selectors, services
from .auth import TOKEN_LIFETIME, bearer_key, client_ip, customer_auth, token_issue, token_revoke
from .models import User

router = Router(tags=["accounts"])


class ErrorOut(Schema):
    code: str
    message: str


ERRORS = {code: ErrorOut for code in (400, 401, 403, 404, 409, 429, 503)}


class SmsCodeIn(Schema):
    mobile: str = Field(..., examples=["13800138000"])
    purpose: str = Field(..., description="register, login or reset_password")


class SmsCodeOut(Schema):
    mobile: str = Field(..., description="masked")
    purpose: str
    expires_in: int = Field(..., description="seconds the code stays valid")
    resend_after: int = Field(..., description="seconds before another code may be asked for")


class RegisterIn(Schema):
    username: str
    password: str
    mobile: str
    code: str = Field(..., description="the 6-digit SMS code (purpose register)")
    role: str = Field(..., description="INVESTOR, BORROWER or BOTH")


class LoginIn(Schema):
    username: str = Field(..., description="username or mobile number")
    password: str


class SmsLoginIn(Schema):
    mobile: str
    code: str


class PasswordResetIn(Schema):
    mobile: str
    code: str
    new_password: str


class MeOut(Schema):
    username: str
    user_no: str
    mobile: str = Field(..., description="masked")
    role: str
    date_joined: dt.datetime


class TokenOut(Schema):
    token: str
    token_type: str = "Bearer"
    expires_in: int
    user: MeOut


class LoggedOut(Schema):
    logged_out: bool
    token_revoked: bool


class PasswordResetOut(Schema):
    password_reset: bool


def _token(user: User) -> dict:
    return {"token": token_issue(user=user), "token_type": "Bearer",
            "expires_in": int(TOKEN_LIFETIME.total_seconds()), "user": selectors.customer_profile(user=user)}


@router.post("/sms-code", response={200: SmsCodeOut, **ERRORS})
def sms_code(request: HttpRequest, payload: SmsCodeIn):
    """Text a 6-digit code (valid 5 minutes, one per purpose per 60 s, daily caps per phone and per IP).

    A number that cannot use a code for the purpose (registering a registered number, logging in
    with an unknown one) is texted why instead; the answer is the same, so it tells no one who
    is registered."""
    issued = services.sms_code_request(mobile=payload.mobile, purpose=payload.purpose, ip=client_ip(request))
    return {"mobile": mask_mobile(issued.mobile), "purpose": issued.purpose, "expires_in": issued.expires_in,
            "resend_after": issued.resend_after}


@router.post("/register", response={201: TokenOut, **ERRORS})
def register(request: HttpRequest, payload: RegisterIn):
    """Create a customer with a registration SMS code; answers a bearer token."""
    user = services.customer_register(username=payload.username, password=payload.password,
                                      mobile=payload.mobile, code=payload.code, role=payload.role,
                                      ip=client_ip(request))
    return Status(201, _token(user))


@router.post("/login", response={200: TokenOut, **ERRORS})
def login(request: HttpRequest, payload: LoginIn):
    """Username (or mobile) and password; repeated failures lock the login (429)."""
    user = services.customer_authenticate_password(request=request, login=payload.username,
                                                   password=payload.password)
    return _token(user)


@router.post("/login-sms", response={200: TokenOut, **ERRORS})
def login_sms(request: HttpRequest, payload: SmsLoginIn):
    """Mobile number and a login SMS code."""
    return _token(services.customer_authenticate_sms(mobile=payload.mobile, code=payload.code))


@router.post("/logout", auth=customer_auth, response={200: LoggedOut, 401: ErrorOut})
def logout(request: HttpRequest):
    """Revoke the bearer token used (or end the browser session)."""
    key = bearer_key(request)
    revoked = token_revoke(key=key) if key else False
    if not key:
        session_logout(request)
    return {"logged_out": True, "token_revoked": revoked}


@router.post("/password-reset", response={200: PasswordResetOut, **ERRORS})
def password_reset(request: HttpRequest, payload: PasswordResetIn):
    """Set a new password with a reset SMS code; every token of the customer is revoked."""
    services.customer_password_reset(mobile=payload.mobile, code=payload.code,
                                     new_password=payload.new_password)
    return {"password_reset": True}


@router.get("/me", auth=customer_auth, response={200: MeOut, 401: ErrorOut})
def me(request: HttpRequest):
    """The logged-in customer (mobile masked)."""
    return selectors.customer_profile(user=request.auth)
