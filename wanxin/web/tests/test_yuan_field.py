"""The one form field for amounts typed in yuan (``wanxin.inputs.YuanField``): its limits are
arguments, a form may word a refusal by its code, and the parser's own message is translated."""

from __future__ import annotations

import pytest
from django import forms
from django.utils import translation

from wanxin.inputs import YuanField


class AmountForm(forms.Form):
    amount = YuanField(maximum=100_00)
    optional = YuanField(maximum=100_00, required=False)
    signed = YuanField(maximum=100_00, minimum=-100_00, required=False)
    worded = YuanField(maximum=100_00, minimum=0, required=False,
                       error_messages={"negative": "No debts here.", "invalid": "Type a number of yuan."})


def errors(data: dict) -> dict:
    form = AmountForm(data)
    assert not form.is_valid()
    return {name: list(messages) for name, messages in form.errors.items()}


def test_cleans_to_fen():
    form = AmountForm({"amount": " ¥99.5 ", "signed": "-12.34", "worded": "0"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data == {"amount": 9_950, "optional": None, "signed": -1_234, "worded": 0}


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"amount": "100.01"}, "amount", "The amount is too large: at most ¥100.00."),
    ({"amount": "0"}, "amount", "The amount must be more than zero."),
    ({"amount": "1.001"}, "amount", "The amount can have at most 2 decimal places (whole fen)."),
    ({"amount": "１２"}, "amount", "Enter the amount in yuan, for example 1000 or 99.50."),
    ({"amount": ""}, "amount", "This field is required."),
    ({"amount": "1", "signed": "-100.01"}, "signed", "The amount must be at least -¥100.00."),
    ({"amount": "1", "worded": "-1"}, "worded", "No debts here."),
    ({"amount": "1", "worded": "1e3"}, "worded", "Type a number of yuan."),
    ({"amount": "1", "worded": "1.001"}, "worded", "The amount can have at most 2 decimal places (whole fen)."),
])
def test_refusals_name_the_rule(data, field, message):
    assert errors(data)[field] == [message]


def test_the_parsers_message_is_translated():
    with translation.override("zh-hans"):
        assert errors({"amount": "1.001"})["amount"] == ["金额最多保留 2 位小数（精确到分）。"]
