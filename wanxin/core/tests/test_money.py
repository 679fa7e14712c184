from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wanxin.core.money import allocate, format_fen, round_half_up


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
