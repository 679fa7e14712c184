"""The borrower score's first points table: the KYC rating's own bands (income, assets,
documents), so the two agree until a risk officer changes this one, plus age bands."""

from django.db import migrations

from wanxin.kyc import domain as kyc

AGE_BANDS = ((18, 0), (25, 5), (35, 10), (55, 5), (65, 0))


def seed(apps, schema_editor):
    band = apps.get_model("risk", "ScoreBand")
    rows = [band(factor="INCOME", lower=lower, points=points) for lower, points in kyc.INCOME_POINTS]
    rows += [band(factor="ASSETS", lower=lower, points=points) for lower, points in kyc.ASSET_POINTS]
    rows += [band(factor="DOCUMENT", lower=0, document=kind.value, points=points)
             for kind, points in kyc.DOCUMENT_POINTS.items()]
    rows += [band(factor="AGE", lower=lower, points=points) for lower, points in AGE_BANDS]
    band.objects.bulk_create(rows)


def unseed(apps, schema_editor):
    apps.get_model("risk", "ScoreBand").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("risk", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
