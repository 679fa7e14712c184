"""Many rows inserted in one statement with ONE parameter: ``bulk_create`` for the set-based
jobs' hot paths (automatic repayment writes ~8 rows per period).

``bulk_create`` prepares every value through its field (``get_db_prep_save``) and sends a
statement with one placeholder per value, which the driver splits and quotes client-side:
for thousands of rows that is most of the job's CPU (docs/benchmarks.md, auto_repay). Here
the rows travel as one JSON array, encoded in C by ``json.dumps``, and PostgreSQL casts each
element to its column's type (``jsonb_array_elements … WITH ORDINALITY``, in list order: the
primary keys come back in that order).

Values of Django's plain field types go as they are (the cast does the rest); dates and times
are prepared by their field first (a naive time read in ``TIME_ZONE``, a datetime in a date
field cut to its local date, as Django stores them); any other field prepares its own value
(``get_db_prep_save``: an encrypted field encrypts it), which must then be JSON. Unlike
``bulk_create`` it sends no signals, ignores primary keys already set, and writes to the
database the router names for the model only when that is ``default`` (else: ``bulk_create``).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID

from django.db import DEFAULT_DB_ALIAS, connection, models, router
from django.db.models import Value
from django.db.models.expressions import DatabaseDefault
from django.utils import timezone
from django.utils.functional import Promise

M = TypeVar("M", bound=models.Model)

# Django's own field classes, whose Python values JSON carries as the column expects (a cast
# does the rest); any other field (an encrypted one) has its value prepared by the field.
_PLAIN = (models.CharField, models.TextField, models.BigIntegerField, models.IntegerField,
          models.PositiveIntegerField, models.SmallIntegerField, models.PositiveSmallIntegerField,
          models.BooleanField, models.ForeignKey, models.DecimalField, models.JSONField)


def _encode(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, (Decimal, UUID, Promise)):  # a lazy translation: its text now, as Django sends it
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _columns(model: type[models.Model]) -> list[models.Field] | None:
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    if not isinstance(model._meta.pk, (models.AutoField, models.BigAutoField)):  # pragma: no cover
        return None
    return fields


def insert_many(objs: Sequence[M]) -> Sequence[M]:
    """Insert unsaved ``objs`` of one model in one statement; sets each one's primary key (as
    ``bulk_create`` does on PostgreSQL). Defaults and ``auto_now``/``auto_now_add`` are
    applied as ``bulk_create`` applies them; a constraint violation raises IntegrityError."""
    if not objs:
        return objs
    model = type(objs[0])
    fields = _columns(model)
    if fields is None or router.db_for_write(model) != DEFAULT_DB_ALIAS:
        return model.objects.bulk_create(list(objs))
    now = timezone.now()
    getters: list[Callable[[M], Any]] = []
    for f in fields:
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            getters.append(lambda obj, a=f.attname: _stamp(obj, a, now))
        elif f.has_db_default():  # unset, the attribute holds DatabaseDefault(): the column's DEFAULT
            default = _db_default(f)
            getters.append(lambda obj, a=f.attname, d=default: _or_default(getattr(obj, a), d))
        elif type(f) in _PLAIN:
            getters.append(lambda obj, a=f.attname: getattr(obj, a))
        else:  # its own preparation (e.g. encryption): the value it would send
            getters.append(lambda obj, a=f.attname, f=f: f.get_db_prep_save(getattr(obj, a), connection))
    payload = json.dumps([[get(obj) for get in getters] for obj in objs], default=_encode, separators=(",", ":"))
    selects = []
    for n, f in enumerate(fields):
        if type(f) is models.JSONField:
            selects.append(f"NULLIF(x.v->{n}, 'null'::jsonb)")  # Python None is SQL NULL, as Django stores it
        else:  # varchar(n) as text: the INSERT's own cast refuses too long a value, an explicit one cuts it
            db_type = f.db_type(connection)
            selects.append(f"(x.v->>{n})::{'text' if db_type.startswith('varchar') else db_type}")
    table, pk = model._meta.db_table, model._meta.pk.column
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} ({columns}) SELECT {', '.join(selects)} "  # noqa: S608
                       "FROM jsonb_array_elements(%s::jsonb) WITH ORDINALITY AS x(v, n) ORDER BY x.n "
                       f"RETURNING {pk}", [payload])
        ids = [row[0] for row in cursor.fetchall()]
    for obj, pk_value in zip(objs, ids, strict=True):
        obj.pk = pk_value
        obj._state.adding, obj._state.db = False, connection.alias
    return objs


def _db_default(field: models.Field) -> Any:
    default = field.db_default
    if isinstance(default, Value):
        return default.value
    if hasattr(default, "resolve_expression"):  # pragma: no cover - our db_defaults are constants
        raise TypeError(f"{field} has an expression as db_default")
    return default


def _or_default(value: Any, default: Any) -> Any:
    return default if isinstance(value, DatabaseDefault) else value


def _stamp(obj: models.Model, attname: str, now: dt.datetime) -> dt.datetime:
    setattr(obj, attname, now)
    return now
