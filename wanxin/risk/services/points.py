"""The points table of the credit score (score bands), changed by risk officers."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from wanxin.audit.actions import AuditAction
from wanxin.audit.log import audit_record
from wanxin.core.errors import NotFound
from wanxin.kyc import domain as kyc_domain

from .. import domain
from ..models import ScoreBand
from .common import RuleRefused, refusal, require_officer


def _band(factor: str, lower: int | None, document: str, points: int | None) -> domain.Band:
    if points is None:
        raise RuleRefused(_("Enter the points."), code="points")
    band = domain.Band(factor, 0 if factor == domain.Factor.DOCUMENT else (lower if lower is not None else -1),
                       document if factor == domain.Factor.DOCUMENT else "", points)
    try:
        domain.check_band(band, documents=[k.value for k in kyc_domain.Kind])
    except domain.RuleInvalid as exc:
        raise refusal(exc) from exc
    return band


def score_band_save(*, operator, band_id: int | None, factor: str, lower: int | None, document: str,
                    points: int | None) -> ScoreBand:
    """Add a row to the points table (``band_id`` None) or change one; audited."""
    require_officer(operator)
    band = _band(factor, lower, document, points)
    with transaction.atomic():
        row = None
        if band_id is not None:
            row = ScoreBand.objects.select_for_update().filter(pk=band_id).first()
            if row is None:
                raise NotFound(_("No such row."), code="not_found")
        if ScoreBand.objects.filter(factor=band.factor, lower=band.lower, document=band.document).exclude(
                pk=getattr(row, "pk", None)).exists():
            raise RuleRefused(_("The table already has a row for this band; change that row instead."),
                              code="lower", status=409)
        before = None if row is None else {"factor": row.factor, "lower": row.lower, "document": row.document,
                                            "points": row.points}
        row = row or ScoreBand()
        row.factor, row.lower, row.document, row.points = band.factor, band.lower, band.document, band.points
        row.save()
        audit_record(actor=operator, action=AuditAction.RISK_SCORE_SAVE, target=row, before=before,
                     after={"factor": row.factor, "lower": row.lower, "document": row.document, "points": row.points})
    return row


def score_band_delete(*, operator, band_id: int) -> None:
    require_officer(operator)
    with transaction.atomic():
        row = ScoreBand.objects.select_for_update().filter(pk=band_id).first()
        if row is None:
            raise NotFound(_("No such row."), code="not_found")
        audit_record(actor=operator, action=AuditAction.RISK_SCORE_DELETE, target=row, after=None,
                     before={"factor": row.factor, "lower": row.lower, "document": row.document, "points": row.points})
        row.delete()
