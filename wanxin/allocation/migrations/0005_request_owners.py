"""Name the owner of the allocation requests recorded before requests had owners
(docs/decisions/0004): each belongs to the allocation ``BankRequest`` of the same number."""

from django.db import migrations
from django.db.models import OuterRef, Subquery


def backfill(apps, schema_editor):
    Request = apps.get_model("depository", "DepositoryRequest")
    BankRequest = apps.get_model("allocation", "BankRequest")
    (Request.objects.filter(owner_type="", request_no__in=BankRequest.objects.values("request_no"))
     .update(owner_type="allocation.bankrequest",
             owner_id=Subquery(BankRequest.objects.filter(request_no=OuterRef("request_no")).values("pk")[:1])))


class Migration(migrations.Migration):
    dependencies = [
        ("depository", "0004_request_owner"),
        ("allocation", "0004_request_bank_request"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
