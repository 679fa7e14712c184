"""The hash chain: every append links to the row before it; ``manage.py audit_verify`` names
the first row edited, deleted or inserted behind the append-only trigger's back.

The tampering is done as an attacker with database access would: plain SQL with the trigger
disabled (``ALTER TABLE … DISABLE TRIGGER``, undone with the test's transaction)."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction

from wanxin.audit import chain
from wanxin.audit.actions import AuditAction
from wanxin.audit.guards import SYSTEM
from wanxin.audit.log import audit_record
from wanxin.audit.models import AuditLog
from wanxin.backoffice.tests import factories as f

pytestmark = pytest.mark.django_db


def five_rows(*, gap: bool = False) -> list[AuditLog]:
    """Five appends; with ``gap``, an id is left free after the third (as an append rolled
    back with its transaction leaves one)."""
    operator = f.reviewer()
    rows = []
    for i in range(5):
        rows.append(audit_record(actor=operator, action=AuditAction.KYC_APPROVE, target=("kyc.kycapplication", i),
                                 before={"status": "SUBMITTED"},
                                 after={"status": "APPROVED", "credit_limit": 100_000 * i, "on": dt.date(2026, 1, i + 1)},
                                 ip="10.0.0.7"))
        if gap and i == 2:
            with connection.cursor() as cursor:
                cursor.execute("SELECT nextval(pg_get_serial_sequence('backoffice_auditlog', 'id'))")
    return rows


def tamper(sql: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # ALTER TABLE waits for no deferred check
        cursor.execute("ALTER TABLE backoffice_auditlog DISABLE TRIGGER backoffice_auditlog_append_only")
        cursor.execute(sql, params)
        cursor.execute("ALTER TABLE backoffice_auditlog ENABLE TRIGGER backoffice_auditlog_append_only")


def verify_fails() -> str:
    with pytest.raises(CommandError) as caught:
        call_command("audit_verify")
    return str(caught.value)


def test_each_row_links_to_the_one_before_and_an_intact_log_verifies(capsys):
    rows = five_rows()
    stored = list(AuditLog.objects.order_by("id"))
    assert stored[0].prev_hash == chain.GENESIS
    assert [r.prev_hash for r in stored[1:]] == [r.row_hash for r in stored[:-1]]
    # The hash covers the row as PostgreSQL gives it back (jsonb, inet, timestamptz).
    assert all(chain.row_hash(chain.fields_of(r), r.prev_hash) == r.row_hash for r in stored)
    assert [r.row_hash for r in rows] == [r.row_hash for r in stored]
    call_command("audit_verify")
    out = capsys.readouterr().out
    assert "5 rows" in out and stored[-1].row_hash in out


def test_an_edited_row_is_named():
    rows = five_rows()
    tamper("UPDATE backoffice_auditlog SET after = jsonb_set(after, '{credit_limit}', '999') WHERE id = %s",
           [rows[2].pk])
    message = verify_fails()
    assert f"row {rows[2].pk}" in message and "edited" in message


def test_an_edited_and_rehashed_row_is_found_at_its_successor():
    rows = five_rows()
    tamper("UPDATE backoffice_auditlog SET target_id = '77', row_hash = %s WHERE id = %s", ["f" * 64, rows[1].pk])
    message = verify_fails()
    assert f"row {rows[1].pk}" in message  # its fields no longer match even the forged hash
    # Rehashed properly: the row itself verifies, the chain breaks at the next row.
    fixed = AuditLog.objects.get(pk=rows[1].pk)
    tamper("UPDATE backoffice_auditlog SET row_hash = %s WHERE id = %s",
           [chain.row_hash(chain.fields_of(fixed), fixed.prev_hash), rows[1].pk])
    message = verify_fails()
    assert f"row {rows[2].pk}" in message and f"row {rows[1].pk}" in message


def test_a_deleted_row_is_named_by_the_row_after_the_gap():
    rows = five_rows()
    tamper("DELETE FROM backoffice_auditlog WHERE id = %s", [rows[2].pk])
    message = verify_fails()
    assert f"row {rows[3].pk}" in message and "deleted" in message and f"row {rows[1].pk}" in message


def test_deleting_the_first_row_is_found():
    rows = five_rows()
    tamper("DELETE FROM backoffice_auditlog WHERE id = %s", [rows[0].pk])
    message = verify_fails()
    assert f"row {rows[1].pk}" in message and "deleted" in message


def _forged_insert(row_id: int, prev_hash: str) -> None:
    forged = AuditLog(id=row_id, at=AuditLog.objects.get(pk=row_id - 1).at, actor=None, actor_username="",
                      action="kyc.approve", target_type="kyc.kycapplication", target_id="99", before=None,
                      after={"status": "APPROVED"}, ip=None)
    digest = chain.row_hash(chain.fields_of(forged), prev_hash)
    tamper("INSERT INTO backoffice_auditlog (id, at, actor_id, actor_username, action, target_type, target_id, "
           "before, after, ip, prev_hash, row_hash) VALUES (%s, %s, NULL, '', 'kyc.approve', 'kyc.kycapplication', "
           "'99', NULL, '{\"status\": \"APPROVED\"}', NULL, %s, %s)", [row_id, forged.at, prev_hash, digest])


def test_an_inserted_row_is_named():
    rows = five_rows(gap=True)
    free = rows[2].pk + 1
    # Its own hash is right, but it cannot link in: the next row still names its real predecessor.
    _forged_insert(free, "a" * 64)
    message = verify_fails()
    assert f"row {free}" in message and "inserted" in message


def test_an_inserted_row_linked_to_its_predecessor_is_refused_or_named():
    rows = five_rows(gap=True)
    free = rows[2].pk + 1
    with pytest.raises(IntegrityError), transaction.atomic():  # one successor per row
        _forged_insert(free, rows[2].row_hash)
    tamper("ALTER TABLE backoffice_auditlog DROP CONSTRAINT audit_chain_one_successor")
    _forged_insert(free, rows[2].row_hash)
    message = verify_fails()
    assert f"row {free}" in message and "inserted" in message


def test_appends_from_many_transactions_form_one_chain(transactional_db):
    operator = f.reviewer()
    errors = []

    def work():
        try:
            for i in range(10):
                with transaction.atomic():
                    audit_record(actor=operator, action=AuditAction.LOGIN, target=operator, before=None,
                                 after={"i": i})
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    verdict = chain.verify()
    assert verdict.ok and verdict.rows == 40
    audit_record(actor=SYSTEM, action=AuditAction.LOGIN, target=operator, before=None, after=None)
    assert chain.verify().rows == 41
