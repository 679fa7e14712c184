# Joins main's request owners (issue 10) with the hall's trigram search (issue 11); no schema change.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('lending', '0004_request_owners'),
        ('lending', '0004_search_trigram'),
    ]

    operations = [
    ]
