"""Request payloads carry personal data: stored encrypted, read back intact."""

import pytest
from django.db import connection, transaction

from wanxin.depository import services
from wanxin.depository.models import DepositoryRequest

pytestmark = pytest.mark.django_db


def test_payload_is_ciphertext_at_rest():
    payload = {"userNo": "WX1", "fullName": "韩梅梅", "idNumber": "11010519491231002X",
               "cardNumber": "6222020200112233445", "callbackUrl": "http://x/"}
    with transaction.atomic():
        record = services.request_create(service_name="AUTHORIZE", payload=payload, user_no="WX1")
    with connection.cursor() as cur:
        cur.execute("SELECT payload FROM depository_depositoryrequest WHERE id = %s", [record.pk])
        raw = cur.fetchone()[0]
    assert raw.startswith("v1:")
    for secret in ("11010519491231002X", "6222020200112233445", "韩梅梅"):
        assert secret not in raw
    assert DepositoryRequest.objects.get(pk=record.pk).payload == payload
