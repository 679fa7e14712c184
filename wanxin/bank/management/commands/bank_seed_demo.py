from django.conf import settings
from django.core.management.base import BaseCommand

from wanxin.bank import accounts
from wanxin.bank.models import Account
from wanxin.bank.staff import fund_platform_capital


class Command(BaseCommand):
    help = "Seed the bank's demo state: system accounts and a funded PLATFORM_CAPITAL (idempotent)."

    def handle(self, *args, **options):
        for platform_no in settings.BANK_PLATFORMS:
            for kind in (Account.Kind.CARD_NETWORK, Account.Kind.PLATFORM_INCOME, Account.Kind.PLATFORM_CAPITAL):
                accounts.system(platform_no, kind)
            capital = accounts.system(platform_no, Account.Kind.PLATFORM_CAPITAL)
            if capital.available == 0:
                fund_platform_capital(platform_no=platform_no, amount=5_000_000_00, staff="seed")
                self.stdout.write(f"{platform_no}: PLATFORM_CAPITAL funded with ¥5,000,000.00")
