"""The audit log's hash chain: each row's ``row_hash`` is the SHA-256 of a canonical
serialisation of its fields and ``prev_hash``, the ``row_hash`` of the row before it (by id).

Appends are serialised by a transaction-level advisory lock taken just before the insert
(docs/decisions/0003-one-lock-order.md: it is the last lock of any transaction), so the head
read under it is the row the new one follows. ``verify`` walks the chain and names the first
row that was edited, deleted or inserted behind the append-only trigger's back."""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from decimal import Decimal

from django.core.cache import cache
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

log = logging.getLogger("wanxin.audit")

GENESIS = "0" * 64  # the prev_hash of the first row
# pg_advisory_xact_lock key of the chain's head ("WXAUDIT" in ASCII): held from the append to COMMIT.
CHAIN_LOCK = 0x5758415544_4954
HASHED = ("id", "at", "actor_id", "actor_username", "action", "target_type", "target_id", "before", "after", "ip")


def _canonical(value) -> str:
    """JSON with sorted keys, no spaces, and numbers as normalised decimals, so a value hashes
    the same before the insert and as PostgreSQL's jsonb gives it back (1, 1.0, 1E+0 alike)."""
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(str(k), ensure_ascii=False)}:{_canonical(v)}"
                              for k, v in sorted(value.items())) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_canonical(v) for v in value) + "]"
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, int | float | Decimal):
        number = Decimal(repr(value) if isinstance(value, float) else value).normalize()
        return format(number, "f")
    return json.dumps(str(value), ensure_ascii=False)


def stored_json(value):
    """``value`` as the JSONField stores it (dates and decimals as strings)."""
    return None if value is None else json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def row_hash(fields: dict, prev_hash: str) -> str:
    """SHA-256 (hex) of the row's ``HASHED`` fields and the previous row's hash."""
    at = fields["at"].astimezone(dt.UTC).isoformat(timespec="microseconds")
    ip = str(ipaddress.ip_address(fields["ip"])) if fields["ip"] else None
    record = {**{k: fields[k] for k in HASHED}, "at": at, "ip": ip,
              "before": stored_json(fields["before"]), "after": stored_json(fields["after"]), "prev_hash": prev_hash}
    return hashlib.sha256(_canonical(record).encode()).hexdigest()


def fields_of(row) -> dict:
    return {k: getattr(row, k) for k in HASHED}


def append(row) -> None:
    """Insert ``row`` (an unsaved ``AuditLog``) at the head of the chain. Takes the chain lock,
    which is held until COMMIT: call it as the last write of the transaction."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK])
        # A new statement, so its snapshot sees the append committed just before the lock was ours.
        cursor.execute("SELECT nextval(pg_get_serial_sequence('backoffice_auditlog', 'id')), "
                       "(SELECT row_hash FROM backoffice_auditlog ORDER BY id DESC LIMIT 1)")
        row.id, head = cursor.fetchone()
        row.prev_hash = head or GENESIS
        row.row_hash = row_hash(fields_of(row), row.prev_hash)
        row.save(force_insert=True)


@dataclass(frozen=True)
class Break:
    """The first place the chain does not hold: the row to look at and what is wrong."""

    row_id: int
    kind: str  # edited | inserted | deleted
    detail: str


@dataclass(frozen=True)
class Verdict:
    rows: int
    head: str
    broken: Break | None

    @property
    def ok(self) -> bool:
        return self.broken is None


def _rows() -> Iterator:
    from .models import AuditLog

    return AuditLog.objects.order_by("id").only(*HASHED, "prev_hash", "row_hash").iterator(chunk_size=2000)


def verify(rows: Iterable | None = None) -> Verdict:
    """Walk the chain in id order and stop at the first break. An edited row no longer matches
    its own hash; an inserted one is skipped by the chain (the next row links past it); a
    deletion leaves the next row linking to a hash no row has. The last rows of the log can
    be deleted without a trace inside it: compare ``rows``/``head`` with an earlier run."""
    rows = _rows() if rows is None else iter(rows)
    count, prev, prev2, expected = 0, None, GENESIS, GENESIS
    pending = next(rows, None)
    while pending is not None:
        row, pending = pending, next(rows, None)
        count += 1
        own = row_hash(fields_of(row), row.prev_hash)
        if own != row.row_hash:
            if pending is not None and pending.prev_hash == expected:
                return Verdict(count, expected, Break(row.id, "inserted", "the chain links past this row"))
            return Verdict(count, expected, Break(row.id, "edited", "its fields do not match its hash"))
        if row.prev_hash != expected:
            if prev is not None and row.prev_hash == prev2:
                return Verdict(count, expected, Break(prev.id, "inserted", "the chain links past this row"))
            if pending is not None and pending.prev_hash == expected:
                return Verdict(count, expected, Break(row.id, "inserted", "the chain links past this row"))
            after = f"row {prev.id}" if prev is not None else "the start of the log"
            return Verdict(count, expected, Break(row.id, "deleted", (
                f"it does not link to {after}: a row between them was deleted "
                f"(or {after} was edited and hashed again)")))
        prev2, prev, expected = expected, row, row.row_hash
    return Verdict(count, expected, None)


# -- the last verdict, for the back-office page and the job ---------------------------------

KIND_LABELS = {
    "edited": _("edited: its fields no longer match its hash"),
    "inserted": _("inserted: the chain links past it"),
    "deleted": _("a row before it was deleted (or the row before it edited and hashed again)"),
}
_LAST = "audit:chain-verdict"


def verify_and_remember() -> Verdict:
    """Verify the whole chain and keep the verdict (with its time) for the audit page."""
    verdict = verify()
    try:
        cache.set(_LAST, {"at": timezone.now().isoformat(), "rows": verdict.rows, "head": verdict.head,
                          "broken": None if verdict.ok else asdict(verdict.broken)}, timeout=None)
    except Exception:  # the verdict still reaches the caller and the log; only the page's copy is lost
        log.warning("audit chain verdict not remembered: the cache is unavailable", exc_info=True)
    if not verdict.ok:
        log.error("audit log chain broken at row %s (%s): %s", verdict.broken.row_id, verdict.broken.kind,
                  verdict.broken.detail)
    return verdict


def last_verdict() -> dict | None:
    """The last remembered verdict: ``at`` (datetime), ``rows``, ``head``, ``broken`` (with its
    translated ``label``) or None before the first verification."""
    found = cache.get(_LAST)
    if found is None:
        return None
    broken = found["broken"] and {**found["broken"], "label": KIND_LABELS[found["broken"]["kind"]]}
    return {**found, "at": dt.datetime.fromisoformat(found["at"]), "broken": broken}
