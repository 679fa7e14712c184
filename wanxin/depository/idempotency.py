"""Submitting at most once per key: the one helper behind every idempotent submit (a bid, a
recharge, a withdrawal), whether the key is an API client's ``Idempotency-Key`` header or a
form's one-time token.

The key is written in the same transaction as the object it creates, under a unique index
(``IdempotencyKey``), never as a cache placeholder:

1. ``INSERT … ON CONFLICT DO NOTHING`` claims (customer, scope, key) as the transaction's
   first write. A concurrent submit with the same key waits on the unique index until the
   first one commits or rolls back.
2. The claim's owner creates its object and records it on the key row; both commit together.
   A refusal (a ``WanxinError``) or a crash rolls the claim back with everything else, so a
   retry runs afresh.
3. Whoever found the key taken reads the committed row: the same request gets the first
   one's object back; another request under the same key is refused (409 ``key_reused``).

So a process killed at any point leaves either nothing (a retry places it) or the key with
its object (a retry gets that object). Keys are kept a day (``KEEP``), then deleted by the
``depository.idempotency_expire`` job.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Mapping
from typing import TypeVar

from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wanxin.core.errors import Conflict, NotFound, WanxinError

from .models import IdempotencyKey

KEEP = dt.timedelta(hours=24)
MAX_KEY_LENGTH = 64

M = TypeVar("M", bound=models.Model)
P = TypeVar("P")

_CLAIM = (
    f"INSERT INTO {IdempotencyKey._meta.db_table} (user_id, scope, key, fingerprint, object_type, created_at) "  # noqa: S608
    "VALUES (%s, %s, %s, %s, '', %s) ON CONFLICT (user_id, scope, key) DO NOTHING RETURNING id"
)


def fingerprint(scope: str, request: Mapping[str, object]) -> str:
    """SHA-256 of what is asked: the same fields (in any order, numbers or their text) give the
    same fingerprint."""
    text = json.dumps({"scope": scope, **{k: str(v) for k, v in request.items()}}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def submit_once(*, user, scope: str, key: str, request: Mapping[str, object], model: type[M],
                create: Callable[[P], M], prepare: Callable[[], P] = lambda: None) -> M:
    """Run ``create(prepare())`` at most once per (``user``, ``scope``, ``key``) and return its
    object (an instance of ``model``); a repeat with the same ``request`` returns that object.
    No ``key``: just ``create(prepare())``.

    ``prepare`` runs first, outside any transaction: reads and checks that need no lock (a
    bid's loan, an allocation's product and quote). ``create`` runs inside this helper's
    transaction, after the claim: its after-commit sends go out once the key and the object
    are both committed."""
    if not key:
        return create(prepare())
    if len(key) > MAX_KEY_LENGTH:
        raise WanxinError(_("The idempotency key has at most 64 characters."), code="token")
    asked = fingerprint(scope, request)
    found = _earlier(user=user, scope=scope, key=key, asked=asked, model=model)
    if found is not None:  # a retry of a committed submit: before any check that could refuse it now
        return found
    prepared = prepare()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(_CLAIM, [user.pk, scope, key, asked, timezone.now()])
            claimed = cursor.fetchone()
        if claimed is not None:
            created = create(prepared)
            IdempotencyKey.objects.filter(pk=claimed[0]).update(object_type=model._meta.label_lower,
                                                                object_id=created.pk)
            return created
    # Taken by a submit that committed while this one waited on the unique index.
    found = _earlier(user=user, scope=scope, key=key, asked=asked, model=model)
    if found is None:  # expired in between: the client may send it again
        raise Conflict(_("This request was just being sent; please send it again."), code="duplicate")
    return found


def _earlier(*, user, scope: str, key: str, asked: str, model: type[M]) -> M | None:
    """The object the committed submit with this key created; None if there is none."""
    row = (IdempotencyKey.objects.filter(user=user, scope=scope, key=key)
           .only("fingerprint", "object_id").first())
    if row is None:
        return None
    if row.fingerprint != asked:
        raise Conflict(_("This idempotency key was already used for a different request (another amount or "
                         "target). Use a new key for a new request."), code="key_reused")
    found = model._default_manager.filter(pk=row.object_id).first() if row.object_id is not None else None
    if found is None:
        raise NotFound(_("What this request created no longer exists."), code="not_found")
    return found


def expire(*, keep: dt.timedelta = KEEP) -> int:
    """Delete keys older than ``keep``: a retry after that is a new submit. Returns how many."""
    deleted, _by_model = IdempotencyKey.objects.filter(created_at__lt=timezone.now() - keep).delete()
    return deleted
