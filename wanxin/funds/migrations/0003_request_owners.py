"""Name the owner of the funds requests recorded before requests had owners: every
account opening, recharge and withdrawal belongs to the customer's depository account
(found by userNo). Requests of a userNo without an account keep no owner (and a late
result for one is counted as UNROUTED)."""

from django.db import migrations
from django.db.models import OuterRef, Subquery

SERVICES = ["PERSONAL_REGISTER", "RECHARGE", "WITHDRAW"]


def backfill(apps, schema_editor):
    Request = apps.get_model("depository", "DepositoryRequest")
    Account = apps.get_model("funds", "DepositoryAccount")
    (Request.objects.filter(owner_type="", service_name__in=SERVICES, user_no__in=Account.objects.values("user_no"))
     .update(owner_type="funds.depositoryaccount",
             owner_id=Subquery(Account.objects.filter(user_no=OuterRef("user_no")).values("pk")[:1])))


class Migration(migrations.Migration):
    dependencies = [
        ("depository", "0004_request_owner"),
        ("funds", "0002_record_month_statistics"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
