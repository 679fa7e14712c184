"""Customers: registration, login by password or SMS code, password reset.

Every function is keyword-only and raises ``WanxinError`` (``FieldError`` when one form
field is at fault) with a message the customer can act on. Checks that cost nothing come
before the SMS code is tried, so a refusal for a taken username or a weak password leaves
the code usable.
"""

from __future__ import annotations

import secrets

from axes.utils import reset as axes_reset
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wanxin.core.errors import Conflict, WanxinError
from wanxin.core.identity import MOBILE_RE, IdentityError, check_mobile
from wanxin.i18n import translated

from . import lockout, screening, sms_codes
from .models import ApiToken, User

USERNAME_MIN, USERNAME_MAX = 3, 30
OPERATOR_REFUSED = gettext_lazy("Operator accounts cannot log in on the customer site; "
                                "please use the back office at /backoffice/login.")


class FieldError(WanxinError):
    """A refusal about one input field (``field``), so forms can show it in place."""

    def __init__(self, field: str, message: str, *, code: str = "invalid", status: int | None = None):
        super().__init__(message, code=code, status=status)
        self.field = field


class ConflictField(FieldError):
    status = Conflict.status


# -- inputs --------------------------------------------------------------------------------


def _mobile(value: str) -> str:
    try:
        return check_mobile(value or "")
    except IdentityError as exc:
        raise FieldError("mobile", translated(exc), code="invalid_mobile") from exc


def _username(value: str) -> str:
    username = (value or "").strip()
    if not USERNAME_MIN <= len(username) <= USERNAME_MAX:
        raise FieldError("username", _("A username has %(min)d to %(max)d characters.") % {"min": USERNAME_MIN, "max": USERNAME_MAX},
                         code="invalid_username")
    try:
        UnicodeUsernameValidator()(username)
    except ValidationError as exc:
        raise FieldError("username", _("A username may contain only letters, digits and @ . + - _."),
                         code="invalid_username") from exc
    if username.isdigit():
        raise FieldError("username", _("A username cannot be only digits (it would look like a mobile "
                         "number); add some letters."), code="invalid_username")
    return username


def _password(value: str, *, user: User | None, field: str = "password") -> str:
    try:
        validate_password(value or "", user=user)
    except ValidationError as exc:
        raise FieldError(field, " ".join(exc.messages), code="weak_password") from exc
    return value


def _role(value: str) -> str:
    if value not in User.Role.values:
        raise FieldError("role", _("Choose a role: investor, borrower, or both."), code="invalid_role")
    return value


def _code(*, purpose: str, mobile: str, code: str) -> None:
    try:
        sms_codes.code_check(purpose=purpose, mobile=mobile, code=code)
    except sms_codes.CodeError as exc:
        raise FieldError(exc.field, exc.message, code=exc.code, status=exc.status) from exc


def _customer_by_mobile(mobile: str) -> User:
    user = User.objects.filter(mobile=mobile).first()
    if user is None:
        raise FieldError("mobile", _("No account uses this mobile number. Please register first."),
                         code="unknown_mobile", status=404)
    if not user.is_customer:
        raise WanxinError(OPERATOR_REFUSED, code="operator_account", status=403)
    if not user.is_active:
        raise WanxinError(_("This account is disabled. Please contact customer service."),
                          code="account_disabled", status=403)
    return user


def _new_user_no() -> str:
    return "WX" + secrets.token_hex(7).upper()


# -- SMS codes -----------------------------------------------------------------------------


def _ignore() -> str:
    return _("If you did not ask for this, ignore this message.")


def _sms_notice(*, purpose: str, mobile: str) -> str | None:
    """What to text instead of a code when ``mobile`` cannot use one for ``purpose``; None if it can.

    The answer to the request is the same either way (who is registered is the phone owner's
    business, not the requester's): only the message on the phone says what applies."""
    user = User.objects.filter(mobile=mobile).first()
    what = {"purpose": sms_codes.PURPOSES[purpose]}
    if purpose == sms_codes.REGISTER:
        if user is None:
            return None
        notice = _("This number is already registered with Wanxin, so no registration code was sent. "
                   "Log in instead, or reset your password if you have forgotten it.")
    elif user is None:
        notice = _("No Wanxin account uses this number, so no %(purpose)s code was sent. "
                   "Register first to use it.") % what
    elif not user.is_customer:
        notice = _("No %(purpose)s code was sent.") % what + " " + str(OPERATOR_REFUSED)
    elif not user.is_active:
        notice = _("No %(purpose)s code was sent: this Wanxin account is disabled. "
                   "Please contact customer service.") % what
    else:
        return None
    return f"{notice} {_ignore()}"


def sms_code_request(*, mobile: str, purpose: str, ip: str | None) -> sms_codes.IssuedCode:
    """Text a verification code for ``purpose`` (register, login or reset_password), or, to a
    number that cannot use one for it, a message saying why; the answer is the same."""
    mobile = _mobile(mobile)
    if purpose not in sms_codes.PURPOSES:
        raise FieldError("purpose", _("Unknown purpose; use one of %(purposes)s.") % {"purposes": ", ".join(sms_codes.PURPOSES)},
                         code="invalid_purpose")
    notice = _sms_notice(purpose=purpose, mobile=mobile)
    screening.screen(screening.SMS, mobile=mobile, ip=ip, purpose=purpose)  # risk rules (wanxin.risk)
    try:
        return sms_codes.code_send(purpose=purpose, mobile=mobile, ip=ip, notice=notice)
    except sms_codes.CodeError as exc:
        raise FieldError(exc.field, exc.message, code=exc.code, status=exc.status) from exc


# -- registration --------------------------------------------------------------------------


def customer_register(*, username: str, password: str, mobile: str, code: str, role: str,
                      ip: str | None = None) -> User:
    """Create a customer after checking every input and then the registration SMS code."""
    username, mobile, role = _username(username), _mobile(mobile), _role(role)
    if User.objects.filter(username__iexact=username).exists():
        raise ConflictField("username", _("This username is taken; please choose another."),
                            code="username_taken")
    user = User(username=username, mobile=mobile, role=role)
    _password(password, user=user)
    # The code first: a registered number is never sent one, so the answer to a guess at a
    # taken number is about the code, and does not tell that the number is registered.
    _code(purpose=sms_codes.REGISTER, mobile=mobile, code=code)
    if User.objects.filter(mobile=mobile).exists():
        raise ConflictField("mobile", _("This mobile number is already registered. Log in instead, "
                            "or reset your password."), code="mobile_taken")
    screening.screen(screening.REGISTRATION, mobile=mobile, ip=ip)  # risk rules (wanxin.risk)
    user.set_password(password)
    for _attempt in range(5):
        user.user_no = _new_user_no()
        try:
            with transaction.atomic():
                user.save(force_insert=True)
            return user
        except IntegrityError:
            user.pk = None
            if User.objects.filter(username__iexact=username).exists():
                raise ConflictField("username", _("This username was just taken; please choose another."),
                                    code="username_taken") from None
            if User.objects.filter(mobile=mobile).exists():
                raise ConflictField("mobile", _("This mobile number was just registered."),
                                    code="mobile_taken") from None
    raise WanxinError(_("We could not create your account just now; please try again."),
                      code="user_no_exhausted", status=503)


# -- login ---------------------------------------------------------------------------------


def customer_authenticate_password(*, request: HttpRequest, login: str, password: str) -> User:
    """The customer for a username (or mobile number) and password.

    Goes through ``django.contrib.auth.authenticate`` so django-axes counts failures and
    locks the username out from this client after ``AXES_FAILURE_LIMIT`` of them."""
    login = (login or "").strip()
    if not login or not password:
        raise WanxinError(_("Enter your username (or mobile number) and password."), code="missing_credentials")
    username = login
    if MOBILE_RE.fullmatch(login):
        username = User.objects.filter(mobile=login).values_list("username", flat=True).first() or login
    user = authenticate(request=request, username=username, password=password)
    if user is None:
        if getattr(request, "axes_locked_out", False):
            lockout.explained(request)
            raise WanxinError(lockout.message(request, username, sms_hint=True), code="locked_out",
                              status=429)
        raise WanxinError(_("Wrong username or password."), code="bad_credentials", status=401)
    if not user.is_customer:
        raise WanxinError(OPERATOR_REFUSED, code="operator_account", status=403)
    return user


def customer_authenticate_sms(*, mobile: str, code: str) -> User:
    """The customer for a mobile number and its login SMS code (used up on success)."""
    mobile = _mobile(mobile)
    # The code first: only a customer's number is sent one, so a guess at another number is
    # refused for its code and does not tell whether the number is registered.
    _code(purpose=sms_codes.LOGIN, mobile=mobile, code=code)
    return _customer_by_mobile(mobile)


# -- password reset ------------------------------------------------------------------------


@transaction.atomic
def customer_password_reset(*, mobile: str, code: str, new_password: str) -> User:
    """Set a new password with a reset SMS code.

    Ends every API token of the customer (sessions end by themselves: the password changed)
    and lifts any login lockout of the username."""
    mobile = _mobile(mobile)
    # A weak password is refused before the code is tried (the code stays usable); the account
    # is looked up only after the code passes, so the answers never tell who is registered.
    _password(new_password, user=User.objects.filter(mobile=mobile).first(), field="new_password")
    _code(purpose=sms_codes.RESET_PASSWORD, mobile=mobile, code=code)
    user = _customer_by_mobile(mobile)
    user = User.objects.select_for_update().get(pk=user.pk)
    user.set_password(new_password)
    user.save(update_fields=["password"])
    ApiToken.objects.filter(user=user).delete()
    axes_reset(username=user.username)
    return user


DEMO_CUSTOMERS = (
    ("investor", "13800000001", User.Role.INVESTOR),
    ("borrower", "13800000002", User.Role.BORROWER),
)
DEMO_CUSTOMER_PASSWORD = "wanxin-demo-2026"


def demo_customer(username: str, mobile: str, role: str) -> User:
    """A demo customer with the demo password (the existing one if the name is taken)."""
    user = User.objects.filter(username=username).first()
    return user or User.objects.create_user(username=username, password=DEMO_CUSTOMER_PASSWORD, mobile=mobile,
                                            role=role, user_no=_new_user_no())


def seed_customers_demo(*, stdout=None) -> list[str]:
    """Demo customers (idempotent). They open their depository accounts at the bank's pages."""
    created = []
    for username, mobile, role in DEMO_CUSTOMERS:
        if not User.objects.filter(username=username).exists():
            demo_customer(username, mobile, role)
            created.append(username)
    if stdout is not None:
        stdout.write("Customers (log in at /accounts/login):\n")
        for username, mobile, role in DEMO_CUSTOMERS:
            stdout.write(f"  {username:<12} {DEMO_CUSTOMER_PASSWORD:<18} {role.label}, mobile {mobile}\n")
    return created
