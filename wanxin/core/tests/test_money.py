from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wanxin.core.money import (
    MAX_AMOUNT_FEN,
    AmountError,
    allocate,
    check_fen,
    format_fen,
    parse_fen,
    parse_yuan,
    round_half_up,
)

MAX = 10_000_000_00


def test_round_half_up_at_half_fen():
    assert round_half_up(Decimal("2.5")) == 3
    assert round_half_up(Decimal("2.4999")) == 2
    assert round_half_up(Decimal("-2.5")) == -3


def test_allocate_exact_values():
    assert allocate(100, [1, 1, 1]) == [34, 33, 33]
    assert allocate(10, [3, 3, 4]) == [3, 3, 4]
    assert allocate(1, [1, 1]) == [1, 0]
    with pytest.raises(ValueError):
        allocate(1, [0, 0])


@given(st.integers(0, 10**12), st.lists(st.integers(0, 10**9), min_size=1, max_size=50).filter(any))
def test_allocate_parts_add_up_and_stay_close(total, weights):
    parts = allocate(total, weights)
    assert sum(parts) == total
    assert all(p >= 0 for p in parts)
    weight_sum = sum(weights)
    for part, weight in zip(parts, weights, strict=True):
        assert abs(Decimal(part) - Decimal(total) * weight / weight_sum) < 1


def test_format_fen():
    assert format_fen(123456) == "¥1,234.56"
    assert format_fen(-5) == "-¥0.05"


# -- parsing typed amounts (the cases of the former funds and kyc parsers) ------------------------


@pytest.mark.parametrize(
    ("text", "fen"),
    [
        ("1", 100),
        ("1000", 100_000),
        ("0.01", 1),
        ("0.1", 10),
        ("99.99", 9_999),
        ("12.5", 1_250),
        ("1.000", 100),  # trailing zeros are still whole fen
        (" 88.80 ", 8_880),
        ("¥1,234.56", 123_456),
        ("1,000,000", 100_000_000),
        ("+5", 500),
        ("007", 700),
        ("10000000", MAX),  # exactly the maximum
    ],
)
def test_parse_yuan_exact(text, fen):
    assert parse_yuan(text, maximum=MAX) == fen


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Enter an amount."),
        ("   ", "Enter an amount."),
        ("-1", "The amount must be positive."),
        ("-0.01", "The amount must be positive."),
        ("0", "The amount must be more than zero."),
        ("0.00", "The amount must be more than zero."),
        ("0.001", "at most 2 decimal places"),
        ("1.005", "at most 2 decimal places"),
        ("10000000.01", "too large"),
        ("99999999999999999999999", "too large"),
        ("9" * 5000, "too large"),
        ("abc", "Enter the amount in yuan"),
        ("1e5", "Enter the amount in yuan"),
        ("NaN", "Enter the amount in yuan"),
        ("Infinity", "Enter the amount in yuan"),
        ("1,00", "Enter the amount in yuan"),
        ("1.2.3", "Enter the amount in yuan"),
        (".5", "Enter the amount in yuan"),
        ("12.", "Enter the amount in yuan"),  # was 1200 in funds; kyc refused it: the stricter rule
        ("１２", "Enter the amount in yuan"),  # full-width digits
        ("١٢", "Enter the amount in yuan"),  # Arabic-Indic digits
        ("12 34", "Enter the amount in yuan"),
        ("0x10", "Enter the amount in yuan"),
    ],
)
def test_parse_yuan_refusals(text, message):
    with pytest.raises(AmountError, match=message.replace(".", r"\.")):
        parse_yuan(text, maximum=MAX)


def test_parse_yuan_refuses_non_strings():
    with pytest.raises(AmountError):
        parse_yuan(12.5, maximum=MAX)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [1.5, 100.0, "100", True, None, Decimal("1"), -1, 0, MAX + 1])
def test_check_fen_refusals(value):
    with pytest.raises(AmountError):
        check_fen(value, maximum=MAX)


def test_check_fen_accepts_ints_in_range():
    assert check_fen(1, maximum=MAX) == 1
    assert check_fen(MAX, maximum=MAX) == MAX


@pytest.mark.parametrize(("text", "fen"), [
    ("120000", 12_000_000), ("1,234.5", 123_450), ("0.01", 1), ("0", 0), (" 7.00 ", 700),
    ("9999999999999.99", 999_999_999_999_999),
])
def test_parse_yuan_zero_allowed(text, fen):
    """Declared income and assets (kyc): zero allowed, up to MAX_AMOUNT_FEN."""
    assert parse_yuan(text, minimum=0, maximum=MAX_AMOUNT_FEN) == fen


@pytest.mark.parametrize("text", ["-1", "1.234", "abc", "1e5", "", "12.", ".5", "99999999999999", "NaN"])
def test_parse_yuan_zero_allowed_refuses(text):
    with pytest.raises(AmountError):
        parse_yuan(text, minimum=0, maximum=MAX_AMOUNT_FEN)




@pytest.mark.parametrize(("text", "minimum", "code"), [
    ("", 1, "required"), ("1e5", 1, "invalid"), ("1.001", 1, "decimals"), ("-1", 1, "negative"),
    ("-1", 0, "negative"), ("0", 1, "zero"), ("5", 600, "too_small"), ("-7", -500, "too_small"),
    ("10000000.01", 1, "too_large"),
])
def test_refusals_carry_a_code_callers_can_word(text, minimum, code):
    with pytest.raises(AmountError) as refused:
        parse_yuan(text, minimum=minimum, maximum=MAX)
    assert refused.value.code == code


def test_a_negative_minimum_admits_signed_amounts():
    assert parse_yuan("-1,234.5", minimum=-MAX, maximum=MAX) == -123_450
    assert parse_yuan("-0", minimum=-MAX, maximum=MAX) == 0
    assert parse_yuan("+3", minimum=-MAX, maximum=MAX) == 300


@given(st.integers(-MAX_AMOUNT_FEN, MAX_AMOUNT_FEN))
def test_signed_fen_round_trip_through_typed_yuan(fen):
    sign, (yuan, cents) = "-" if fen < 0 else "", divmod(abs(fen), 100)
    assert parse_yuan(f"{sign}{yuan:,}.{cents:02d}", minimum=-MAX_AMOUNT_FEN, maximum=MAX_AMOUNT_FEN) == fen


@pytest.mark.parametrize(("text", "code"), [
    (None, "required"), ("", "required"), ("-100", "negative"), ("0", "zero"), ("100.5", "fraction"),
    ("100.00", "fraction"), ("1e5", "not_fen"), ("１００", "not_fen"), ("9" * 5000, "too_large"),
    (str(MAX + 1), "too_large"),
])
def test_parse_fen_refusals(text, code):
    with pytest.raises(AmountError) as refused:
        parse_fen(text, maximum=MAX)
    assert refused.value.code == code


def test_parse_fen():
    assert parse_fen(" 1000000 ", maximum=MAX) == 1_000_000
    assert parse_fen("+1", maximum=MAX) == 1
    assert parse_fen(str(MAX), maximum=MAX) == MAX
