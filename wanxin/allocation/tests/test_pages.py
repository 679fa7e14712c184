"""The customer's allocation pages: products and the quote shown before confirming."""

from __future__ import annotations

import re

import pytest

from wanxin.allocation.models import Product

pytestmark = pytest.mark.django_db


def _no_inline_code(html: str) -> None:
    assert "style=" not in html and "<style" not in html
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline script"


def test_products_page_lists_both_products_with_their_rates(client):
    response = client.get("/allocation/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "按天配资" in html and "按月配资" in html
    assert "×3 · 0.12%" in html  # the daily product's ×3 rate per trading day
    assert "×6 · 1.80%" in html  # the monthly product's ×6 rate per month
    assert "¥5,000.00 – ¥2,000,000.00" in html
    _no_inline_code(html)


def test_quote_page_shows_everything_before_confirming(client):
    product = Product.objects.get(code="monthly")
    response = client.get(f"/allocation/products/{product.pk}",
                          {"deposit": "10,000.01", "multiple": "3", "duration": "3", "start": "2024-01-31"})
    assert response.status_code == 200
    html = response.content.decode()
    for element, text in [("q-allocated", "¥30,000.03"), ("q-total", "¥40,000.04"), ("q-warning", "¥36,000.04"),
                          ("q-liquidation", "¥34,000.03"), ("q-risk-fund", "¥300.00"), ("q-start", "2024-01-31"),
                          ("q-end", "2024-04-30"), ("q-fee-total", "¥1,350.00"), ("q-pay-now", "¥10,750.01")]:
        assert re.search(rf'id="{element}"[^>]*>{re.escape(text)}', html), element
    assert re.findall(r"(\d{4}-\d{2}-\d{2})</td>", html) == ["2024-01-31", "2024-02-29", "2024-03-31"]
    _no_inline_code(html)


@pytest.mark.parametrize("query,field", [
    ({"deposit": "100", "multiple": "3", "duration": "3"}, "deposit"),  # below ¥5,000.00
    ({"deposit": "abc", "multiple": "3", "duration": "3"}, "deposit"),
    ({"deposit": "10000", "multiple": "2", "duration": "3"}, "multiple"),
    ({"deposit": "10000", "multiple": "3", "duration": "5"}, "duration"),
])
def test_quote_page_refuses_bad_input_beside_the_field(client, query, field):
    product = Product.objects.get(code="monthly")
    response = client.get(f"/allocation/products/{product.pk}", query)
    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="error-{field}"' in html
    assert 'id="quote"' not in html


def test_a_product_off_sale_has_no_page(client):
    product = Product.objects.get(code="daily")
    Product.objects.filter(pk=product.pk).update(active=False)
    assert client.get(f"/allocation/products/{product.pk}").status_code == 404


def test_pages_labels_and_refusals_are_translated_to_chinese():
    from django.template.loader import render_to_string
    from django.utils import translation

    from wanxin.allocation import domain, labels
    from wanxin.allocation.errors import invalid

    with translation.override("zh-hans"):
        assert str(labels.STATUSES[domain.WARNING]) == "低于警戒线"
        html = render_to_string("allocation/index.html", {"products": Product.objects.all()})
        assert "股票配资" in html and "选择并查看报价" in html
        try:
            domain.check_choice(Product.objects.get(code="monthly").terms(), deposit=100, multiple=3, duration=1)
        except domain.RuleError as exc:
            refusal = invalid(exc)
        assert refusal.code == "invalid_deposit"
        assert refusal.message == "保证金须在 ¥5,000.00 到 ¥2,000,000.00 之间。"
