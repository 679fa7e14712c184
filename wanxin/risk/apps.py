from django.apps import AppConfig


class RiskConfig(AppConfig):
    name = "wanxin.risk"
    label = "risk"
    verbose_name = "Risk control (rules, blacklist, borrower score, rule checks)"

    def ready(self) -> None:
        from wanxin.accounts import screening

        from . import dashboard, services  # noqa: F401  (the dashboard tile)

        # Accounts sits below risk: it consults the rules through the screens we register.
        screening.subscribe(screening.REGISTRATION, services.registration_screen)
        screening.subscribe(screening.SMS, services.sms_screen)
