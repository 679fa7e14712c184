"""Drop ``Allocation.submit_token``: submit keys live in ``depository.IdempotencyKey`` since
issue 14 (kept a day), and nothing reads the column any more."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('allocation', '0005_request_owners'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='allocation',
            name='allocation_submit_once',
        ),
        migrations.RemoveField(
            model_name='allocation',
            name='submit_token',
        ),
    ]
