"""Name the owner of the repayment requests recorded before requests had owners: the
freeze, its CONFIRM_REPAYMENT and every CANCEL_PRE_TRANSACTION of it (by its preRequestNo)
belong to the ``Repayment``."""

from django.db import migrations
from django.db.models import OuterRef, Subquery


def backfill(apps, schema_editor):
    Request = apps.get_model("depository", "DepositoryRequest")
    Repayment = apps.get_model("repayments", "Repayment")
    for service, column in (("USER_PRE_TRANSACTION", "request_no"), ("CONFIRM_REPAYMENT", "confirm_request_no")):
        (Request.objects.filter(owner_type="", service_name=service,
                                request_no__in=Repayment.objects.exclude(**{column: ""}).values(column))
         .update(owner_type="repayments.repayment",
                 owner_id=Subquery(Repayment.objects.filter(**{column: OuterRef("request_no")}).values("pk")[:1])))
    freezes = dict(Repayment.objects.values_list("request_no", "pk"))
    # The payload is encrypted: read through the field, one record at a time.
    for record in Request.objects.filter(owner_type="", service_name="CANCEL_PRE_TRANSACTION"):
        owner_id = freezes.get((record.payload or {}).get("preRequestNo"))
        if owner_id is not None:
            Request.objects.filter(pk=record.pk).update(owner_type="repayments.repayment", owner_id=owner_id)


class Migration(migrations.Migration):
    dependencies = [
        ("depository", "0004_request_owner"),
        ("repayments", "0001_initial"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
