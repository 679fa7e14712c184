"""Builders for KYC test states."""

from __future__ import annotations

from wanxin.backoffice.tests import factories as f
from wanxin.core.identity import resident_id_check_char
from wanxin.kyc import services
from wanxin.kyc.models import KycApplication


def id_number(birth: str = "19900307", seq: str = "123", area: str = "110105") -> str:
    first17 = area + birth + seq
    return first17 + resident_id_check_char(first17)


ID_NUMBER = id_number()  # 110105199003071234-style, valid
INCOME = 30_000_000  # 300,000 yuan a year
ASSETS = 150_000_000  # 1,500,000 yuan


def declared(customer, *, number: str = ID_NUMBER, income: int = INCOME, assets: int = ASSETS) -> KycApplication:
    return services.application_declare(customer=customer, real_name="张三丰", id_number=number,
                                        annual_income=income, assets=assets)


def complete(customer, **kwargs) -> KycApplication:
    """Declared, with both ID card sides and a bank statement: ready to submit."""
    declared(customer, **kwargs)
    services.document_upload(customer=customer, kind="ID_CARD_FRONT", upload=f.jpeg("front.jpg"))
    services.document_upload(customer=customer, kind="ID_CARD_BACK", upload=f.png("back.png"))
    services.document_upload(customer=customer, kind="BANK_STATEMENT", upload=f.pdf("statement.pdf"))
    return KycApplication.objects.get(customer=customer)


def submitted(customer, **kwargs) -> KycApplication:
    complete(customer, **kwargs)
    return services.application_submit(customer=customer)


def state(application: KycApplication) -> dict:
    application = KycApplication.objects.get(pk=application.pk)
    return {field.attname: getattr(application, field.attname) for field in application._meta.concrete_fields}
