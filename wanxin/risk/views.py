"""Risk officers' pages under /backoffice/risk/: rules by kind (create, change, expire), the
blacklist, the borrower score's points table and the log of rule checks. Every page needs
``manage_risk_rules``; every change goes through the services."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from wanxin.audit.guards import require_operator_permission
from wanxin.core.errors import NotFound, WanxinError

from . import domain, selectors, services
from .forms import BlacklistForm, CheckFilterForm, RuleForm, ScoreBandForm, local_default
from .models import RiskRule, ScoreBand

MANAGE = "backoffice.manage_risk_rules"
PAGE_SIZE = 50


def _error(form, exc: WanxinError) -> None:
    form.add_error(exc.code if exc.code in form.fields else None, exc.message)


@require_GET
@require_operator_permission(MANAGE)
def rules(request: HttpRequest) -> HttpResponse:
    include_expired = request.GET.get("expired") == "1"
    now = timezone.now()
    groups = [(key, label, domain.SPECS[domain.Key(key)], rows)
              for key, label, rows in selectors.rules_by_key(include_expired=include_expired, at=now)]
    return render(request, "risk/rules.html", {"groups": groups, "include_expired": include_expired})


def _rule_input(form: RuleForm, key: str) -> services.RuleInput:
    d = form.cleaned_data
    return services.RuleInput(key=key, scope=d.get("scope", ""), action=d["action"], params=form.params(),
                              effective_from=d.get("effective_from"), effective_to=d.get("effective_to"),
                              note=d.get("note", ""))


@require_http_methods(["GET", "POST"])
@require_operator_permission(MANAGE)
def rule_new(request: HttpRequest, key: str) -> HttpResponse:
    if key not in RiskRule.Key.values:
        raise Http404(_("No such kind of rule."))
    form = RuleForm(request.POST or None, key=key)
    if request.method == "POST" and form.is_valid():
        try:
            rule = services.rule_create(operator=request.user, data=_rule_input(form, key))
        except WanxinError as exc:
            _error(form, exc)
        else:
            messages.success(request, _("Rule #%(id)s saved.") % {"id": rule.pk})
            return redirect("backoffice:risk:rules")
    return render(request, "risk/rule_form.html", {"form": form, "label": RiskRule.Key(key).label, "rule": None},
                  status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
@require_operator_permission(MANAGE)
def rule_edit(request: HttpRequest, rule_id: int) -> HttpResponse:
    rule = selectors.rule_get(rule_id)
    if rule is None:
        raise Http404(_("No such rule."))
    initial = {name: getattr(rule, name) for name in domain.PARAM_FIELDS}
    if rule.amount is not None:
        initial["amount"] = rule.amount / 100
    initial.update(scope=rule.scope, action=rule.action, note=rule.note,
                   effective_from=local_default(rule.effective_from), effective_to=local_default(rule.effective_to))
    form = RuleForm(request.POST or None, key=rule.key, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.rule_change(operator=request.user, rule_id=rule.pk, data=_rule_input(form, rule.key))
        except NotFound as exc:
            raise Http404(exc.message) from exc
        except WanxinError as exc:
            _error(form, exc)
        else:
            messages.success(request, _("Rule #%(id)s saved.") % {"id": saved.pk})
            return redirect("backoffice:risk:rules")
    return render(request, "risk/rule_form.html", {"form": form, "label": rule.get_key_display(), "rule": rule},
                  status=400 if form.errors else 200)


@require_POST
@require_operator_permission(MANAGE)
def rule_expire(request: HttpRequest, rule_id: int) -> HttpResponse:
    try:
        services.rule_expire(operator=request.user, rule_id=rule_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except WanxinError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Rule #%(id)s expired.") % {"id": rule_id})
    return redirect("backoffice:risk:rules")


@require_http_methods(["GET", "POST"])
@require_operator_permission(MANAGE)
def blacklist(request: HttpRequest) -> HttpResponse:
    form = BlacklistForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            entry = services.blacklist_add(operator=request.user, kind=d["kind"], value=d["value"], action=d["action"],
                                           note=d["note"], effective_from=d["effective_from"],
                                           effective_to=d["effective_to"])
        except WanxinError as exc:
            _error(form, exc)
        else:
            messages.success(request, _("%(value)s is on the blacklist.") % {"value": entry.masked})
            return redirect("backoffice:risk:blacklist")
    include_expired = request.GET.get("expired") == "1"
    search = request.GET.get("value", "")[:40]
    page = Paginator(selectors.blacklist(include_expired=include_expired, at=timezone.now(), value=search),
                     PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "risk/blacklist.html", {"form": form, "page": page, "include_expired": include_expired,
                                                   "search": search},
                  status=400 if form.errors else 200)


@require_POST
@require_operator_permission(MANAGE)
def blacklist_expire(request: HttpRequest, entry_id: int) -> HttpResponse:
    try:
        services.blacklist_expire(operator=request.user, entry_id=entry_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except WanxinError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Blacklist entry #%(id)s expired.") % {"id": entry_id})
    return redirect("backoffice:risk:blacklist")


@require_http_methods(["GET", "POST"])
@require_operator_permission(MANAGE)
def score(request: HttpRequest) -> HttpResponse:
    """The points table; POST adds a row, or changes row ``band`` when given."""
    form = ScoreBandForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        band_id = request.POST.get("band", "")
        try:
            services.score_band_save(operator=request.user, band_id=int(band_id) if band_id.isdigit() else None,
                                     factor=form.cleaned_data["factor"], lower=form.lower_units(),
                                     document=form.cleaned_data["document"] or "", points=form.cleaned_data["points"])
        except NotFound as exc:
            raise Http404(exc.message) from exc
        except WanxinError as exc:
            _error(form, exc)
        else:
            messages.success(request, _("The points table is saved."))
            return redirect("backoffice:risk:score")
    bands = selectors.score_bands()
    groups = [(value, label, [b for b in bands if b.factor == value]) for value, label in ScoreBand.Factor.choices]
    return render(request, "risk/score.html", {"form": form, "groups": groups}, status=400 if form.errors else 200)


@require_POST
@require_operator_permission(MANAGE)
def score_delete(request: HttpRequest, band_id: int) -> HttpResponse:
    try:
        services.score_band_delete(operator=request.user, band_id=band_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    messages.success(request, _("The row is removed from the points table."))
    return redirect("backoffice:risk:score")


@require_GET
@require_operator_permission(MANAGE)
def checks(request: HttpRequest) -> HttpResponse:
    form = CheckFilterForm(request.GET or None)
    filters = selectors.CheckFilters(**form.cleaned_data) if form.is_valid() else selectors.CheckFilters()
    page = Paginator(selectors.checks(filters), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [(c, [services.reason(h) for h in c.hits]) for c in page]
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "risk/checks.html", {"form": form, "page": page, "rows": rows, "query": query.urlencode()})
