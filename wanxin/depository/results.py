"""The one dispatcher of bank results (decision record 0004).

A request names its owner when it is created (``request_create(owner=...)``: the model
label and primary key of the business object it serves). When ``result_apply`` settles it,
the result goes to exactly one handler, chosen by (owner type, service name) from the tables
the apps register in their ``AppConfig.ready`` — like the bank's ``DIRECT`` table. This
module imports no app.

A handler runs inside ``result_apply``'s transaction, with the record's row locked and
settled once. It looks its owner up first; if the owner is gone it raises ``OwnerGone``
before changing anything.

Bad input never changes anything twice and is logged and counted (``IgnoredBankResult``,
shown to operators in the back office):
- no handler for (owner type, service): ``UNROUTED`` — in tests (``DEPOSITORY_UNROUTED_RAISES``)
  an ``UnroutedResult`` error instead, so a missing table entry fails the test;
- the owner no longer exists: ``OWNER_GONE``;
- a final result for a record already settled: ``REPEATED``, or ``CONTRADICTED`` when its
  outcome differs from the one applied.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

from django.conf import settings
from django.db import models

from .models import DepositoryRequest, IgnoredBankResult

log = logging.getLogger("wanxin.depository")

ResultHandler = Callable[[DepositoryRequest], None]
# Settles many records of one route at once (a BATCH's answers, ``result_dispatch_many``) with
# the effect of the route's single handler called on each in turn; returns those whose owner
# is gone (counted like ``OwnerGone``).
BatchHandler = Callable[[list[DepositoryRequest]], list[DepositoryRequest]]
Route = tuple[str, str]  # (owner type, service name)

# No owner: a request without a business effect of its own.
NO_OWNER = ""

_routes: dict[Route, ResultHandler] = {}
# route → (the single handler it stands for, the batch handler)
_batch_routes: dict[Route, tuple[ResultHandler, BatchHandler]] = {}


class UnroutedResult(Exception):
    """A final result no registered handler takes (a missing entry in an app's table)."""


class OwnerGone(Exception):
    """Raised by a handler, before it changes anything, when the record's owner is gone."""


def owner_type_of(owner: models.Model | type[models.Model]) -> str:
    """The owner type of a model (instance or class): its label, ``lending.tender``."""
    return owner._meta.label_lower


def results_register(table: Mapping[Route, ResultHandler]) -> None:
    """Add an app's table; a route already taken by another handler is a programming error."""
    for route, handler in table.items():
        taken = _routes.get(route)
        if taken is not None and taken is not handler:
            raise ValueError(f"bank results {route} are already routed to {taken.__module__}.{taken.__qualname__}")
    _routes.update(table)


def results_register_many(table: Mapping[Route, tuple[ResultHandler, BatchHandler]]) -> None:
    """Add batch handlers, each beside the single handler of its route (``results_register``);
    a batch handler is used only while its route is routed to that single handler."""
    _batch_routes.update(table)


def results_unregister(table: Mapping[Route, ResultHandler]) -> None:
    for route, handler in table.items():
        if _routes.get(route) is handler:
            del _routes[route]


@contextmanager
def results_routed(table: Mapping[Route, ResultHandler]) -> Iterator[None]:
    """Route ``table`` for the duration of the block, then restore what was there (tests)."""
    saved = {route: _routes[route] for route in table if route in _routes}
    _routes.update(table)
    try:
        yield
    finally:
        for route in table:
            _routes.pop(route, None)
        _routes.update(saved)


def handler_for(owner_type: str, service_name: str) -> ResultHandler | None:
    return _routes.get((owner_type, service_name))


def result_dispatch(record: DepositoryRequest, *, source: str) -> None:
    """Run the one handler of a just-settled record (inside ``result_apply``'s transaction)."""
    handler = _routes.get((record.owner_type, record.service_name))
    if handler is None:
        if getattr(settings, "DEPOSITORY_UNROUTED_RAISES", False):
            raise UnroutedResult(f"no handler for {record.service_name} results of owner "
                                 f"{record.owner_type or '(none)'} ({record.request_no})")
        log.error("bank result %s %s of owner %r:%s has no handler; applied to the record only",
                  record.service_name, record.request_no, record.owner_type, record.owner_id)
        _count(record, source, IgnoredBankResult.Reason.UNROUTED)
        return
    try:
        handler(record)
    except OwnerGone:
        log.error("bank result %s %s: its owner %s:%s no longer exists; applied to the record only",
                  record.service_name, record.request_no, record.owner_type, record.owner_id)
        _count(record, source, IgnoredBankResult.Reason.OWNER_GONE)


def result_dispatch_many(records: list[DepositoryRequest], *, source: str) -> None:
    """``result_dispatch`` for many just-settled records (a BATCH's answers, in one transaction):
    a route with a batch handler gets all its records in one call, the others one by one."""
    groups: dict[Route, list[DepositoryRequest]] = {}
    for record in records:
        groups.setdefault((record.owner_type, record.service_name), []).append(record)
    for route, group in groups.items():
        single, many = _batch_routes.get(route, (None, None))
        if many is None or _routes.get(route) is not single:
            for record in group:
                result_dispatch(record, source=source)
            continue
        for gone in many(group):
            log.error("bank result %s %s: its owner %s:%s no longer exists; applied to the record only",
                      gone.service_name, gone.request_no, gone.owner_type, gone.owner_id)
            _count(gone, source, IgnoredBankResult.Reason.OWNER_GONE)


def result_repeated(record: DepositoryRequest, *, code: str, resp_msg: str, source: str) -> None:
    """A final result for a record already settled: changes nothing, and is logged and
    counted — ``REPEATED`` (the protocol allows duplicates) or, when its outcome differs
    from the one applied, ``CONTRADICTED``. Call under the record's row lock."""
    same = code == record.resp_code
    log.log(logging.INFO if same else logging.WARNING, "bank result %s for the settled %s (applied %s) ignored",
            code, record.request_no, record.resp_code)
    reason = IgnoredBankResult.Reason.REPEATED if same else IgnoredBankResult.Reason.CONTRADICTED
    IgnoredBankResult.objects.create(request_no=record.request_no, source=source, reason=reason, resp_code=code[:8],
                                     resp_msg=resp_msg[:300])


def _answered(record: DepositoryRequest) -> None:
    """A query's answer is its own result: the caller reads it from the record."""


# The depository's own table: queries have no owner and no business effect.
QUERIES: dict[Route, ResultHandler] = {
    (NO_OWNER, "QUERY_BALANCE"): _answered,
    (NO_OWNER, "QUERY_REQUEST"): _answered,
    (NO_OWNER, "DOWNLOAD_STATEMENT"): _answered,
}


def _count(record: DepositoryRequest, source: str, reason: str) -> None:
    IgnoredBankResult.objects.create(request_no=record.request_no, source=source, reason=reason,
                                     resp_code=record.resp_code, resp_msg=record.resp_msg)
