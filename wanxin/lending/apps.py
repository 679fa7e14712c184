from django.apps import AppConfig


class LendingConfig(AppConfig):
    name = "wanxin.lending"
    label = "lending"
    verbose_name = "Lending (applications, projects, tenders, disbursement)"

    def ready(self) -> None:
        from . import services  # noqa: F401  (registers the depository result handlers)
