"""The append-only audit log: recording, the enumeration of actions, the database guard."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from wanxin.accounts.models import User
from wanxin.audit.actions import AuditAction, action_label
from wanxin.audit.context import _audit_ip
from wanxin.audit.guards import SYSTEM
from wanxin.audit.log import audit_record
from wanxin.audit.models import AuditLog
from wanxin.backoffice.tests import factories as f

pytestmark = pytest.mark.django_db


def test_audit_record_names_who_what_which_when():
    operator = f.reviewer()
    row = audit_record(actor=operator, action=AuditAction.KYC_APPROVE, target=operator, before={"a": 1},
                       after={"a": 2, "at": dt.date(2026, 1, 2)}, ip="10.0.0.7")
    row = AuditLog.objects.get(pk=row.pk)
    assert (row.actor, row.actor_username, row.action, row.target_type, row.target_id, row.before, row.after,
            row.ip) == (operator, operator.username, "kyc.approve", "accounts.user", str(operator.pk), {"a": 1},
                        {"a": 2, "at": "2026-01-02"}, "10.0.0.7")
    assert abs(row.at - timezone.now()) < dt.timedelta(seconds=5)
    other = audit_record(actor=SYSTEM, action=AuditAction.RECONCILIATION_RUN,
                         target=("reconciliation.batch", "2026-01-02"), before=None, after=None)
    assert (other.actor, other.actor_username, other.target_type, other.target_id, other.ip) == (
        None, "", "reconciliation.batch", "2026-01-02", None)


def test_an_unknown_action_or_a_missing_actor_is_refused():
    operator = f.reviewer()
    with pytest.raises(ValueError, match=r"unknown audit action 'thing\.do'"):
        audit_record(actor=operator, action="thing.do", target=operator, before=None, after=None)
    with pytest.raises(TypeError, match="SYSTEM"):  # None is never the system by accident
        audit_record(actor=None, action=AuditAction.LOGIN, target=operator, before=None, after=None)
    assert not AuditLog.objects.exists()
    # A plain string that is an action's value is that action.
    assert audit_record(actor=operator, action="auth.login", target=operator, before=None, after=None).action == (
        AuditAction.LOGIN)


def test_every_action_has_a_translated_label():
    from django.utils import translation

    with translation.override("en"):
        english = {a.value: action_label(a.value) for a in AuditAction}
    with translation.override("zh-hans"):
        chinese = {a.value: action_label(a.value) for a in AuditAction}
    assert [v for v in english if english[v] == chinese[v]] == []
    assert action_label("gone.action") == "gone.action"  # a value no longer listed shows as stored


def test_rows_cannot_be_changed_or_deleted():
    row = audit_record(actor=SYSTEM, action=AuditAction.LOGIN, target=("t", 1), before=None, after=None)
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
    assert AuditLog.objects.get().action == "auth.login"


def test_an_operator_with_history_cannot_be_deleted():
    operator = f.reviewer()
    audit_record(actor=operator, action=AuditAction.LOGIN, target=operator, before=None, after=None)
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
