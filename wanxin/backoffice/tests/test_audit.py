"""The back-office audit page and API: filters, pages, labels, the chain's verdict."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.db import connection
from django.utils import timezone, translation

from wanxin.audit import chain, roles
from wanxin.audit.actions import AuditAction
from wanxin.audit.log import audit_record
from wanxin.audit.models import AuditLog

from . import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def history():
    """30 rows from two operators today and 4 older ones three days ago."""
    alice, bob = f.operator(roles.SUPER_ADMIN, username="alice"), f.reviewer()
    rows = []
    for i in range(30):
        actor = alice if i % 2 == 0 else bob
        rows.append(audit_record(actor=actor, action="kyc.approve" if i % 3 == 0 else "kyc.reject",
                                 target=("kyc.kycapplication", i % 5), before=None, after={"i": i}))
    old = []
    for _ in range(4):  # appended to the chain as audit_record does, but dated three days ago
        row = AuditLog(at=timezone.now() - dt.timedelta(days=3), actor=alice, actor_username="alice",
                       action=AuditAction.LOGIN, target_type="t", target_id="1")
        chain.append(row)
        old.append(row)
    return {"alice": alice, "bob": bob, "rows": rows, "old": old, "today": timezone.localdate()}


def ids(response) -> list[int]:
    return [row.pk for row in response.context["page"]]


def test_audit_page_filters_and_pages(client, history, settings):
    client.force_login(history["alice"])
    everything = client.get("/backoffice/audit/")
    assert everything.status_code == 200
    assert everything.context["page"].paginator.count == 34
    assert ids(everything) == sorted((r.pk for r in history["rows"] + history["old"]), reverse=True)

    only_bob = client.get("/backoffice/audit/", {"actor": history["bob"].username})
    assert ids(only_bob) == sorted((r.pk for r in history["rows"][1::2]), reverse=True)
    approvals = client.get("/backoffice/audit/", {"action": "kyc.approve", "target_id": "0"})
    assert ids(approvals) == sorted((r.pk for i, r in enumerate(history["rows"]) if i % 15 == 0), reverse=True)
    today = history["today"].isoformat()
    assert client.get("/backoffice/audit/", {"date_from": today, "date_to": today}).context["page"].paginator.count == 30
    tomorrow = (history["today"] + dt.timedelta(days=1)).isoformat()
    assert client.get("/backoffice/audit/", {"date_from": tomorrow}).context["page"].paginator.count == 0
    then = (history["today"] - dt.timedelta(days=3)).isoformat()
    assert ids(client.get("/backoffice/audit/", {"date_from": then, "date_to": then})) == sorted(
        (r.pk for r in history["old"]), reverse=True)

    from wanxin.backoffice import views

    views.PAGE_SIZE, old = 7, views.PAGE_SIZE
    try:
        page = client.get("/backoffice/audit/", {"actor": "alice", "page": 2})
        assert page.context["page"].paginator.count == 19 and len(ids(page)) == 7
        assert 'href="?actor=alice&amp;page=3"' in page.content.decode()
        assert ids(page) == sorted((r.pk for r in history["rows"][0::2] + history["old"]), reverse=True)[7:14]
    finally:
        views.PAGE_SIZE = old


def test_audit_api_filters(client, history):
    client.force_login(history["alice"])
    body = client.get("/api/v1/backoffice/audit", {"actor": "alice", "action": "kyc.reject"}).json()
    expected = [r for i, r in enumerate(history["rows"]) if i % 2 == 0 and i % 3 != 0]
    assert body["count"] == len(expected) == 10
    assert [item["id"] for item in body["items"]] == sorted((r.pk for r in expected), reverse=True)
    first = body["items"][0]
    assert set(first) == {"id", "at", "actor_id", "actor_username", "action", "target_type", "target_id", "before",
                          "after", "ip"}
    assert client.get("/api/v1/backoffice/audit", {"date_from": "not-a-date"}).status_code == 422


def test_audit_page_action_filter_lists_every_action_by_label(client, history):
    client.force_login(history["alice"])
    with translation.override("zh-hans"):
        page = client.get("/backoffice/audit/", {"action": "kyc.approve"}, HTTP_ACCEPT_LANGUAGE="zh-hans")
        html = page.content.decode()
        for action in AuditAction:
            assert f'<option value="{action.value}"' in html
        assert str(AuditAction.KYC_APPROVE.label) in html  # the translated label, not the code
    assert ids(page) == sorted((r.pk for i, r in enumerate(history["rows"]) if i % 3 == 0), reverse=True)
    refused = client.get("/backoffice/audit/", {"action": "old.thing"})
    assert refused.status_code == 200 and "Choose an action from the list." in refused.content.decode()
    assert refused.context["page"].paginator.count == 34  # an invalid filter filters nothing


def test_audit_page_shows_the_chain_verdict_and_verifies_on_request(client, history):
    client.force_login(history["alice"])
    cache.delete("audit:chain-verdict")
    assert "Not verified yet." in client.get("/backoffice/audit/").content.decode()
    head = AuditLog.objects.order_by("-id").first().row_hash
    intact = client.get("/backoffice/audit/", {"verify": "1"}).content.decode()
    assert "Intact: 34 rows" in intact and head in intact
    edited = history["rows"][5]
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE backoffice_auditlog DISABLE TRIGGER backoffice_auditlog_append_only")
        cursor.execute("UPDATE backoffice_auditlog SET actor_username = 'mallory' WHERE id = %s", [edited.pk])
        cursor.execute("ALTER TABLE backoffice_auditlog ENABLE TRIGGER backoffice_auditlog_append_only")
    assert "Intact: 34 rows" in client.get("/backoffice/audit/").content.decode()  # the last verdict until asked
    broken = client.get("/backoffice/audit/", {"verify": "1"}).content.decode()
    assert f"Broken at row #{edited.pk}" in broken and "edited: its fields no longer match its hash" in broken
    assert 'role="alert"' in broken
