"""The append-only audit log: the service, the database guard, the list page and API."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from wanxin.accounts.models import User
from wanxin.backoffice import roles
from wanxin.backoffice.models import AuditLog
from wanxin.backoffice.services import _audit_ip, audit_record

from . import factories as f

pytestmark = pytest.mark.django_db


def test_audit_record_names_who_what_which_when():
    operator = f.reviewer()
    row = audit_record(actor=operator, action="thing.do", target=operator, before={"a": 1},
                       after={"a": 2, "at": dt.date(2026, 1, 2)}, ip="10.0.0.7")
    row = AuditLog.objects.get(pk=row.pk)
    assert (row.actor, row.actor_username, row.action, row.target_type, row.target_id, row.before, row.after,
            row.ip) == (operator, operator.username, "thing.do", "accounts.user", str(operator.pk), {"a": 1},
                        {"a": 2, "at": "2026-01-02"}, "10.0.0.7")
    assert abs(row.at - timezone.now()) < dt.timedelta(seconds=5)
    other = audit_record(actor=None, action="job.run", target=("reconciliation.batch", "2026-01-02"), before=None,
                         after=None)
    assert (other.actor_username, other.target_type, other.target_id, other.ip) == (
        "", "reconciliation.batch", "2026-01-02", None)


def test_rows_cannot_be_changed_or_deleted():
    row = audit_record(actor=None, action="x", target=("t", 1), before=None, after=None)
    with pytest.raises(RuntimeError):
        row.save()
    with pytest.raises(RuntimeError):
        row.delete()
    for sql in ("UPDATE backoffice_auditlog SET action = 'y'", "DELETE FROM backoffice_auditlog"):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditLog.objects.filter(pk=row.pk).update(action="y")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditLog.objects.filter(pk=row.pk).delete()
    assert AuditLog.objects.get().action == "x"


def test_an_operator_with_history_cannot_be_deleted():
    operator = f.reviewer()
    audit_record(actor=operator, action="x", target=operator, before=None, after=None)
    with pytest.raises(Exception, match="protected"):
        operator.delete()
    assert User.objects.filter(pk=operator.pk).exists()


def test_the_request_address_does_not_leak_into_later_requests(client):
    operator = f.reviewer()
    client.force_login(operator)
    client.get("/backoffice/", REMOTE_ADDR="10.1.2.3")
    assert _audit_ip.get() in (None, "10.1.2.3")
    client.get("/health")  # any new request starts clean
    assert _audit_ip.get() is None


@pytest.fixture
def history():
    """30 rows from two operators today and 4 older ones three days ago."""
    alice, bob = f.operator(roles.SUPER_ADMIN, username="alice"), f.reviewer()
    rows = []
    for i in range(30):
        actor = alice if i % 2 == 0 else bob
        rows.append(audit_record(actor=actor, action="kyc.approve" if i % 3 == 0 else "kyc.reject",
                                 target=("kyc.kycapplication", i % 5), before=None, after={"i": i}))
    old = [AuditLog.objects.create(at=timezone.now() - dt.timedelta(days=3), actor=alice, actor_username="alice",
                                   action="old.thing", target_type="t", target_id="1") for _ in range(4)]
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
