from django.apps import AppConfig


class LendingConfig(AppConfig):
    name = "wanxin.lending"
    label = "lending"
    verbose_name = "Lending (applications, projects, tenders, disbursement)"

    def ready(self) -> None:
        from . import dashboard, services  # noqa: F401  (register the dashboard tiles and depository result handlers)
