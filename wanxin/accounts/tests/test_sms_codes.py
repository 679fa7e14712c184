"""SMS verification codes: issue, check, expiry, single use, brute force, resend window, daily caps."""

from __future__ import annotations

import threading
import time

import pytest
from django.core.cache import cache
from django.utils import timezone, translation

from wanxin.accounts import services, sms_codes
from wanxin.accounts.services import FieldError
from wanxin.notifications.models import SmsMessage
from wanxin.testing import at_once

from .conftest import MOBILE, last_code, make_customer

pytestmark = pytest.mark.django_db
IP = "10.1.2.3"


def request_code(mobile=MOBILE, purpose="register", ip=IP):
    return services.sms_code_request(mobile=mobile, purpose=purpose, ip=ip)


def check(code, mobile=MOBILE, purpose="register"):
    return services._code(purpose=purpose, mobile=mobile, code=code)


def counters(mobile=MOBILE, ip=IP):
    day = timezone.localdate()
    return (cache.get(sms_codes.daily_phone_key(mobile, day)), cache.get(sms_codes.daily_ip_key(ip, day)))


def pass_resend_window(mobile=MOBILE, purpose="register"):
    """What 60 seconds do: the resend entry becomes stale."""
    cache.set(sms_codes.resend_key(purpose, mobile), time.time() - 61, 60)


def refused(expected: str, call, *args, **kwargs) -> FieldError:
    with pytest.raises(FieldError) as info:
        call(*args, **kwargs)
    assert info.value.code == expected, info.value.message
    return info.value


def test_a_code_is_six_digits_texted_once_logged_and_stored_only_as_a_hash(outbox):
    issued = request_code()
    assert (issued.mobile, issued.purpose, issued.expires_in, issued.resend_after) == (MOBILE, "register", 300, 60)
    [sms] = outbox
    code = last_code(MOBILE)
    assert len(code) == 6 and code.isdigit()
    assert sms.mobile == MOBILE and "registration code" in sms.text and "5 minutes" in sms.text
    entry = cache.get(sms_codes.code_key("register", MOBILE))
    assert set(entry) == {"nonce", "digest", "expires_at"}
    assert code not in repr(entry)
    assert 299 <= entry["expires_at"] - time.time() <= 300
    assert counters() == (1, 1)
    assert list(SmsMessage.objects.values_list("mobile", "purpose", "status")) == [(MOBILE, "register", "SENT")]


@pytest.mark.parametrize("mobile", ["", "138001380", "138001380001", "12800138000", "1380013800x", "abcdefghijk"])
def test_malformed_phone_is_refused_and_nothing_changes(outbox, mobile):
    error = refused("invalid_mobile", request_code, mobile=mobile)
    assert error.field == "mobile" and error.status == 400
    assert outbox == [] and SmsMessage.objects.count() == 0
    assert cache.get(sms_codes.resend_key("register", mobile)) is None
    assert counters(mobile) == (None, None)


def test_unknown_purpose_is_refused(outbox):
    refused("invalid_purpose", request_code, purpose="transfer")
    assert outbox == [] and counters() == (None, None)


def test_a_registered_number_asking_to_register_gets_a_notice_not_a_code(customer, outbox):
    issued = request_code(purpose="register")
    assert (issued.mobile, issued.purpose, issued.expires_in, issued.resend_after) == (MOBILE, "register", 300, 60)
    [sms] = outbox
    assert "already registered" in sms.text and "Log in instead" in sms.text
    assert not any(ch.isdigit() for ch in sms.text)  # no code in it
    assert cache.get(sms_codes.code_key("register", MOBILE)) is None
    assert counters() == (1, 1)  # the same limits as a code
    refused("sms_too_soon", request_code, purpose="register")


@pytest.mark.parametrize("purpose", ["login", "reset_password"])
def test_an_unknown_number_asking_to_log_in_or_reset_gets_a_notice_not_a_code(outbox, purpose):
    issued = request_code(purpose=purpose)
    assert (issued.mobile, issued.purpose, issued.expires_in, issued.resend_after) == (MOBILE, purpose, 300, 60)
    [sms] = outbox
    assert "No Wanxin account uses this number" in sms.text and "Register first" in sms.text
    assert not any(ch.isdigit() for ch in sms.text)
    assert cache.get(sms_codes.code_key(purpose, MOBILE)) is None
    assert counters() == (1, 1)
    refused("code_expired", check, "123456", purpose=purpose)


def test_the_right_code_is_accepted_once_then_refused_as_used():
    request_code()
    code = last_code(MOBILE)
    check(code)
    error = refused("code_used", check, code)
    assert "already been used" in error.message


def test_a_code_for_one_purpose_does_not_work_for_another(customer):
    request_code(purpose="login")
    refused("code_expired", check, last_code(MOBILE), purpose="reset_password")
    check(last_code(MOBILE), purpose="login")


def test_wrong_codes_count_down_and_the_right_one_still_works_within_the_tries():
    request_code()
    code = last_code(MOBILE)
    wrong = "000000" if code != "000000" else "111111"
    messages = [refused("code_wrong", check, wrong).message for _ in range(4)]
    assert messages == ["Wrong code. 4 tries left.", "Wrong code. 3 tries left.",
                        "Wrong code. 2 tries left.", "Wrong code. 1 try left."]
    check(code)


def test_brute_force_voids_the_code_after_five_wrong_tries_even_for_the_right_code():
    request_code()
    code = last_code(MOBILE)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(4):
        refused("code_wrong", check, wrong)
    assert "this code is now void" in refused("code_void", check, wrong).message
    error = refused("code_void", check, code)
    assert "void after 5 wrong tries" in error.message
    # A new code (after the resend window) works again.
    pass_resend_window()
    request_code()
    check(last_code(MOBILE))


def test_malformed_codes_do_not_use_up_tries():
    request_code()
    for bad in ["", "12345", "1234567", "abcdef", "12 456"]:
        refused("code_malformed", check, bad)
    for _ in range(4):
        refused("code_wrong", check, "000000" if last_code(MOBILE) != "000000" else "111111")
    check(last_code(MOBILE))


def test_an_expired_code_is_refused():
    request_code()
    key = sms_codes.code_key("register", MOBILE)
    entry = cache.get(key)
    cache.set(key, {**entry, "expires_at": time.time() - 1}, 60)
    error = refused("code_expired", check, last_code(MOBILE))
    assert "expired" in error.message and "Ask for a new code" in error.message


def test_a_code_gone_from_the_cache_is_refused_as_expired():
    request_code()
    cache.delete(sms_codes.code_key("register", MOBILE))
    refused("code_expired", check, last_code(MOBILE))


def test_resend_within_60_seconds_is_refused_and_changes_nothing(outbox):
    request_code()
    first = last_code(MOBILE)
    entry = cache.get(sms_codes.code_key("register", MOBILE))
    error = refused("sms_too_soon", request_code)
    assert error.status == 429
    assert "ask for another in" in error.message and "seconds" in error.message
    assert len(outbox) == 1 and SmsMessage.objects.count() == 1
    assert counters() == (1, 1)
    assert cache.get(sms_codes.code_key("register", MOBILE)) == entry
    check(first)  # the code sent first still works


def test_a_login_code_just_sent_does_not_hold_up_a_reset_code(customer, outbox):
    """Issue 11: the resend window is per purpose; the daily count is per phone."""
    request_code(purpose="login")
    request_code(purpose="reset_password")
    assert [("login code" in m.text, "password reset code" in m.text) for m in outbox] == [(True, False), (False, True)]
    check(last_code(MOBILE), purpose="reset_password")
    refused("sms_too_soon", request_code, purpose="login")
    refused("sms_too_soon", request_code, purpose="reset_password")
    assert len(outbox) == 2 and counters() == (2, 2)


def test_the_daily_cap_per_phone_counts_every_purpose(settings, customer, outbox):
    settings.SMS_DAILY_LIMIT_PER_PHONE = 2
    request_code(purpose="login")
    request_code(purpose="reset_password")
    pass_resend_window(purpose="login")
    refused("sms_phone_daily_limit", request_code, purpose="login")
    assert len(outbox) == 2


def test_after_the_window_a_new_code_replaces_the_old_one(outbox):
    request_code()
    old = last_code(MOBILE)
    pass_resend_window()
    request_code()
    new = last_code(MOBILE)
    assert len(outbox) == 2 and counters() == (2, 2)
    if new != old:
        refused("code_wrong", check, old)
    check(new)


def test_daily_cap_per_phone(settings, outbox):
    settings.SMS_DAILY_LIMIT_PER_PHONE = 3
    for n in range(3):
        request_code(ip=f"10.0.0.{n}")
        pass_resend_window()
    entry = cache.get(sms_codes.code_key("register", MOBILE))
    error = refused("sms_phone_daily_limit", request_code, ip="10.0.0.9")
    assert error.status == 429 and "(3)" in error.message and "tomorrow" in error.message
    assert len(outbox) == 3
    assert counters(ip="10.0.0.9") == (3, 0)  # this IP's count went up and back down
    assert cache.get(sms_codes.code_key("register", MOBILE)) == entry
    # The refusal did not hold the resend window either.
    assert cache.get(sms_codes.resend_key("register", MOBILE)) is None


def test_flooding_many_numbers_from_one_ip_is_refused(settings, outbox):
    settings.SMS_DAILY_LIMIT_PER_IP = 5
    numbers = [f"1390000000{n}" for n in range(7)]
    for mobile in numbers[:5]:
        request_code(mobile=mobile)
    error = refused("sms_ip_daily_limit", request_code, mobile=numbers[5])
    assert error.status == 429 and "your network" in error.message
    refused("sms_ip_daily_limit", request_code, mobile=numbers[6])
    assert [m.mobile for m in outbox] == numbers[:5]
    assert counters(numbers[5]) == (None, 5)
    assert cache.get(sms_codes.code_key("register", numbers[5])) is None
    # Nothing held for the refused number: another client can have a code for it at once.
    request_code(mobile=numbers[5], ip="10.9.9.9")
    assert outbox[-1].mobile == numbers[5]
    assert counters(numbers[5], ip="10.9.9.9") == (1, 1)


def test_a_failed_delivery_undoes_everything(settings, outbox):
    settings.SMS_BACKEND = "wanxin.notifications.provider.ProviderBackend"
    settings.SMS_PROVIDER_URL = ""
    with pytest.raises(services.WanxinError) as info:
        request_code()
    assert (info.value.code, info.value.status) == ("sms_unavailable", 503)
    assert counters() == (0, 0)
    assert cache.get(sms_codes.code_key("register", MOBILE)) is None
    assert cache.get(sms_codes.resend_key("register", MOBILE)) is None
    assert list(SmsMessage.objects.values_list("status", flat=True)) == ["FAILED"]
    settings.SMS_BACKEND = "wanxin.notifications.backends.MemoryBackend"
    request_code()  # no resend window was held
    assert len(outbox) == 1


def test_operator_numbers_get_no_login_code(operator, outbox):
    request_code(mobile=operator.mobile, purpose="login")
    [sms] = outbox
    assert "No login code was sent" in sms.text and "back office" in sms.text
    assert cache.get(sms_codes.code_key("login", operator.mobile)) is None


def test_a_disabled_customer_gets_no_login_code(customer, outbox):
    customer.is_active = False
    customer.save(update_fields=["is_active"])
    request_code(purpose="login")
    [sms] = outbox
    assert "disabled" in sms.text and cache.get(sms_codes.code_key("login", MOBILE)) is None


def _in_threads(n, target):
    """``target`` on ``n`` threads at once; a refusal is reported by its code."""
    return [o.code if isinstance(o, services.WanxinError) else o for o in at_once(target, n)]


@pytest.mark.django_db(transaction=True)
def test_concurrent_use_of_one_code_succeeds_exactly_once():
    request_code()
    code = last_code(MOBILE)
    results = _in_threads(5, lambda: check(code) or "ok")
    assert sorted(results) == ["code_used"] * 4 + ["ok"]


@pytest.mark.django_db(transaction=True)
def test_a_burst_of_concurrent_uses_still_lets_exactly_one_through():
    # Every attempt counts as a try, so beyond 5 concurrent attempts some see the code void.
    request_code()
    code = last_code(MOBILE)
    results = _in_threads(12, lambda: check(code) or "ok")
    assert results.count("ok") == 1
    assert set(results) - {"ok"} <= {"code_used", "code_void"}


@pytest.mark.django_db(transaction=True)
def test_a_concurrent_brute_force_burst_gets_exactly_five_guesses():
    request_code()
    code = last_code(MOBILE)
    wrong = [f"{n:06d}" for n in range(30) if f"{n:06d}" != code][:20]
    guesses = iter(wrong)
    lock = threading.Lock()

    def guess():
        with lock:
            attempt = next(guesses)
        try:
            with translation.override("en"):  # a new thread starts in the default language
                check(attempt)
        except FieldError as exc:
            return exc.message.split(".")[0]
        return "ok"

    results = _in_threads(20, guess)
    assert results.count("Wrong code") == 5  # 4 with tries left, the 5th voids the code
    assert results.count("This code is void after 5 wrong tries") == 15
    refused("code_void", check, code)


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_for_one_phone_send_exactly_one_code(outbox):
    results = _in_threads(12, lambda: request_code() and "sent")
    assert sorted(results) == ["sent"] + ["sms_too_soon"] * 11
    assert len(outbox) == 1 and SmsMessage.objects.count() == 1
    assert counters() == (1, 1)


@pytest.mark.django_db(transaction=True)
def test_concurrent_flood_from_one_ip_stops_exactly_at_the_cap(settings, outbox):
    settings.SMS_DAILY_LIMIT_PER_IP = 4
    numbers = iter([f"1370000{n:04d}" for n in range(12)])
    lock = threading.Lock()

    def one():
        with lock:
            mobile = next(numbers)
        return request_code(mobile=mobile) and "sent"

    results = _in_threads(12, one)
    assert sorted(results) == ["sent"] * 4 + ["sms_ip_daily_limit"] * 8
    assert len(outbox) == 4
    assert cache.get(sms_codes.daily_ip_key(IP, timezone.localdate())) == 4


def test_a_customer_with_the_code_can_register_only_once(outbox):
    request_code()
    code = last_code(MOBILE)
    services.customer_register(username="alice", password="Plum-Harbour-42!", mobile=MOBILE, code=code,
                               role="INVESTOR")
    refused("code_used", services.customer_register, username="alice2", password="Plum-Harbour-42!",
            mobile=MOBILE, code=code, role="INVESTOR")
    # And the number, now registered, is sent no new registration code.
    pass_resend_window()
    request_code()
    assert "already registered" in outbox[-1].text
    refused("code_used", services.customer_register, username="alice2", password="Plum-Harbour-42!",
            mobile=MOBILE, code=code, role="INVESTOR")


def test_make_customer_helper_gives_a_login_code(outbox):
    make_customer(username="bob", mobile="13700137000")
    request_code(mobile="13700137000", purpose="login")
    check(last_code("13700137000"), mobile="13700137000", purpose="login")
