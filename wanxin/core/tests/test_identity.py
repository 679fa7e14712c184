import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wanxin.core.identity import (
    IdentityError,
    check_card_number,
    check_mobile,
    luhn_valid,
    mask_card_number,
    mask_id_number,
    parse_resident_id,
    resident_id_check_char,
)

TODAY = dt.date(2026, 11, 23)


def make_id(birth: str, seq: str = "123") -> str:
    first17 = f"110101{birth}{seq}"
    return first17 + resident_id_check_char(first17)


def test_known_valid_id_number():
    # The widely published sample number 11010519491231002X.
    assert parse_resident_id("11010519491231002X", today=TODAY) == dt.date(1949, 12, 31)
    assert parse_resident_id("11010519491231002x", today=TODAY) == dt.date(1949, 12, 31)


@pytest.mark.parametrize(
    "value, reason",
    [
        ("1101051949123100", "18 characters"),
        ("11010519491231002Y", "18 characters"),
        ("110105194912310021", "check character"),
        (make_id("20230230"), "does not exist"),
        (make_id("20301010"), "not possible"),
        (make_id("20081124"), "at least 18"),
    ],
)
def test_invalid_id_numbers(value, reason):
    with pytest.raises(IdentityError, match=reason):
        parse_resident_id(value, today=TODAY)


def test_adult_exactly_on_18th_birthday():
    assert parse_resident_id(make_id("20081123"), today=TODAY) == dt.date(2008, 11, 23)


def test_luhn_and_cards():
    assert luhn_valid("4111111111111111")
    assert not luhn_valid("4111111111111112")
    assert check_card_number("4111 1111 1111 1111") == "4111111111111111"
    with pytest.raises(IdentityError):
        check_card_number("4111111111111112")
    with pytest.raises(IdentityError):
        check_card_number("12345")


@given(st.text(alphabet="0123456789", min_size=11, max_size=18))
def test_luhn_check_digit_completion(prefix):
    for digit in "0123456789":
        if luhn_valid(prefix + digit):
            assert sum(luhn_valid(prefix + d) for d in "0123456789") == 1
            break


def test_mobile_and_masks():
    assert check_mobile("13800138000") == "13800138000"
    for bad in ("12800138000", "1380013800", "138001380001", "abc"):
        with pytest.raises(IdentityError):
            check_mobile(bad)
    assert mask_id_number("11010519491231002X") == "110***********002X"
    assert mask_card_number("6222020200112233445") == "6222 **** **** 3445"
