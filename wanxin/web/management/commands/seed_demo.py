from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand

DEMO_STAFF = ("admin", "wanxin-demo-2026")


class Command(BaseCommand):
    help = "Seed demo data for the roles this process serves (idempotent)."

    def handle(self, *args, **options):
        user_model = get_user_model()
        username, password = DEMO_STAFF
        if not user_model.objects.filter(username=username).exists():
            user_model.objects.create_superuser(username=username, password=password, email="admin@example.com")
        if settings.SERVES_BANK:
            call_command("bank_seed_demo")
        if settings.SERVES_PLATFORM:
            from wanxin.accounts.services import seed_customers_demo
            from wanxin.backoffice.services import seed_backoffice_demo

            seed_customers_demo(stdout=self.stdout)
            seed_backoffice_demo(stdout=self.stdout)
