"""Name the owner of the lending requests recorded before requests had owners, where the
link is still known: CREATE_PROJECT and MODIFY_PROJECT → the project (by the column, or the
payload's projectNo), a tender's freeze and unfreezes → the tender (by its request numbers,
or the unfreeze's preRequestNo), CONFIRM_LOAN → the disbursement proposal."""

from django.db import migrations
from django.db.models import OuterRef, Subquery


def _by_column(Request, Model, owner_type, service, column):
    (Request.objects.filter(owner_type="", service_name=service,
                            request_no__in=Model.objects.exclude(**{column: ""}).values(column))
     .update(owner_type=owner_type,
             owner_id=Subquery(Model.objects.filter(**{column: OuterRef("request_no")}).values("pk")[:1])))


def backfill(apps, schema_editor):
    Request = apps.get_model("depository", "DepositoryRequest")
    Project = apps.get_model("lending", "Project")
    Tender = apps.get_model("lending", "Tender")
    Disbursement = apps.get_model("lending", "Disbursement")
    _by_column(Request, Project, "lending.project", "CREATE_PROJECT", "create_request_no")
    _by_column(Request, Tender, "lending.tender", "USER_PRE_TRANSACTION", "request_no")
    _by_column(Request, Disbursement, "lending.disbursement", "CONFIRM_LOAN", "request_no")
    # The payload is encrypted: read through the field, one record at a time.
    projects = dict(Project.objects.values_list("project_no", "pk"))
    tenders = dict(Tender.objects.values_list("request_no", "pk"))
    for record in Request.objects.filter(owner_type="", service_name__in=["MODIFY_PROJECT", "CANCEL_PRE_TRANSACTION"]):
        payload = record.payload or {}
        if record.service_name == "MODIFY_PROJECT":
            owner = ("lending.project", projects.get(payload.get("projectNo")))
        else:
            owner = ("lending.tender", tenders.get(payload.get("preRequestNo")))
        if owner[1] is not None:
            Request.objects.filter(pk=record.pk).update(owner_type=owner[0], owner_id=owner[1])


class Migration(migrations.Migration):
    dependencies = [
        ("depository", "0004_request_owner"),
        ("lending", "0003_status_choice_values"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
