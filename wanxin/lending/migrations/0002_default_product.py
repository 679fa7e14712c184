from django.db import migrations


def create(apps, schema_editor):
    apps.get_model("lending", "LoanProduct").objects.get_or_create(code="STANDARD", defaults={"name": "Standard loan"})


class Migration(migrations.Migration):
    dependencies = [("lending", "0001_initial")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
