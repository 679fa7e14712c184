"""Seed one DAILY and one MONTHLY product (operators edit them or add others)."""

from decimal import Decimal

from django.db import migrations

PRODUCTS = [
    {
        "code": "daily", "name": "按天配资", "type": "DAILY", "durations": [2, 5, 10, 20],
        "deposit_min": 1_000_00, "deposit_max": 1_000_000_00, "risk_fund_rate": Decimal("0.010000"),
        "warning_pct": Decimal("0.500000"), "liquidation_pct": Decimal("0.300000"),
        "rates": {2: "0.001000", 3: "0.001200", 4: "0.001400", 5: "0.001600"},
    },
    {
        "code": "monthly", "name": "按月配资", "type": "MONTHLY", "durations": [1, 2, 3, 6],
        "deposit_min": 5_000_00, "deposit_max": 2_000_000_00, "risk_fund_rate": Decimal("0.010000"),
        "warning_pct": Decimal("0.600000"), "liquidation_pct": Decimal("0.400000"),
        "rates": {3: "0.015000", 4: "0.016000", 5: "0.017000", 6: "0.018000"},
    },
]


def seed(apps, schema_editor):
    Product = apps.get_model("allocation", "Product")
    ProductMultiple = apps.get_model("allocation", "ProductMultiple")
    for spec in PRODUCTS:
        spec = dict(spec)
        rates = spec.pop("rates")
        product, created = Product.objects.get_or_create(code=spec["code"], defaults=spec)
        if created:
            ProductMultiple.objects.bulk_create(
                ProductMultiple(product=product, multiple=m, rate=Decimal(r)) for m, r in rates.items())


def unseed(apps, schema_editor):
    Product = apps.get_model("allocation", "Product")
    Product.objects.filter(code__in=[p["code"] for p in PRODUCTS], allocations__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("allocation", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
