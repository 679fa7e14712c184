"""Pages under /funds/: overview, account opening, recharge, withdraw, the owner-checked
hand-off to the bank, fund records, CSV export and statistics."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from wanxin.audit.guards import customer_required
from wanxin.charts.data import Series, bar_chart
from wanxin.core.errors import Conflict, NotFound, WanxinError
from wanxin.core.identity import mask_mobile
from wanxin.depository import services as depository
from wanxin.depository.models import DepositoryRequest

from . import exports, labels, selectors, services
from .forms import AmountForm, OpenAccountForm, RecordFilterForm
from .models import DepositoryAccount

# The chart's colours: the page's green for money in, the brand red for money out.
IN_COLOUR, OUT_COLOUR = "#1e7e34", "#c0392b"
SERVICE_LABELS = {"PERSONAL_REGISTER": _("Account opening"), "RECHARGE": _("Recharge"), "WITHDRAW": _("Withdrawal"),
                  "AUTHORIZE": _("Authorisation")}


def _add_error(form, exc: WanxinError) -> None:
    form.add_error(exc.code if exc.code in form.fields else None, exc.message)


def _go(record: DepositoryRequest):
    return redirect("funds:go", request_no=record.request_no)


# -- overview -----------------------------------------------------------------------------------


@never_cache
@customer_required
@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    account = selectors.account_for(request.user)
    balance = services.balance_get(account=account) if account and account.is_open else None
    return render(request, "funds/overview.html", {
        "tab": "overview",
        "account": account,
        "balance": balance,
        "pending": selectors.pending_requests(request.user),
        "service_labels": SERVICE_LABELS,
        "recent": selectors.records_page(request.user, selectors.RecordFilter(), limit=5).items if account else [],
    })


# -- account opening --------------------------------------------------------------------------


@never_cache
@customer_required
@require_http_methods(["GET", "POST"])
def open_account(request: HttpRequest) -> HttpResponse:
    account = selectors.account_for(request.user)
    if account is not None and account.status == DepositoryAccount.Status.OPEN:
        messages.info(request, _("Your depository account is already open."))
        return redirect("funds:overview")
    if account is not None and account.status == DepositoryAccount.Status.PENDING and request.method == "GET":
        return render(request, "funds/open_pending.html", {"account": account, "tab": "overview"})
    ask_role = request.user.role not in services.ROLES  # registration asked it already
    if request.method == "POST":
        form = OpenAccountForm(request.POST, ask_role=ask_role)
        if form.is_valid():
            try:
                record = services.account_open(user=request.user, data=services.OpenAccountInput(**form.cleaned_data))
            except Conflict as exc:
                if exc.code == "pending" and account is not None:
                    # A double click: the first submission already went to the bank.
                    return redirect("funds:go", request_no=account.request_no)
                messages.error(request, exc.message)
                return redirect("funds:overview")
            except WanxinError as exc:
                _add_error(form, exc)
            else:
                return _go(record)
    else:
        form = OpenAccountForm(initial={"role": "BOTH"}, ask_role=ask_role)
    return render(request, "funds/open_account.html", {"form": form, "account": account, "tab": "overview",
                                                       "known_mobile": mask_mobile(request.user.mobile or "")})


# -- recharge and withdraw -------------------------------------------------------------------------


def _open_account_or_redirect(request: HttpRequest):
    account = selectors.account_for(request.user)
    if account is None or not account.is_open:
        messages.info(request, _("Open your depository account first."))
        return None
    return account


@customer_required
@require_http_methods(["GET", "POST"])
def recharge(request: HttpRequest) -> HttpResponse:
    account = _open_account_or_redirect(request)
    if account is None:
        return redirect("funds:open-account")
    form = AmountForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            amount = form.cleaned_data["amount"]
            record = services.submit_once(user=request.user, token=form.cleaned_data["token"],
                                          request={"service": "RECHARGE", "amount": amount},
                                          start=lambda: services.recharge_start(user=request.user, amount=amount))
        except WanxinError as exc:
            _add_error(form, exc)
        else:
            return _go(record)
    return render(request, "funds/recharge.html", {"form": form, "account": account, "tab": "recharge",
                                                   "balance": services.balance_get(account=account)})


@customer_required
@require_http_methods(["GET", "POST"])
def withdraw(request: HttpRequest) -> HttpResponse:
    """Two steps without JavaScript: the amount, then the commission to confirm."""
    account = _open_account_or_redirect(request)
    if account is None:
        return redirect("funds:open-account")
    form = AmountForm(request.POST or None)
    quote = None
    if request.method == "POST" and form.is_valid():
        try:
            amount = form.cleaned_data["amount"]
            quote = services.withdraw_quote(amount=amount)
            if request.POST.get("action") == "confirm":
                record = services.submit_once(user=request.user, token=form.cleaned_data["token"],
                                              request={"service": "WITHDRAW", "amount": amount},
                                              start=lambda: services.withdraw_start(user=request.user, amount=amount))
                return _go(record)
        except WanxinError as exc:
            _add_error(form, exc)
            quote = None
    return render(request, "funds/withdraw.html", {
        "tab": "withdraw",
        "form": form, "account": account, "quote": quote, "rule": labels.describe_commission(services.commission_rule()),
        "balance": services.balance_get(account=account),
    })


@customer_required
@require_GET
def withdraw_quote(request: HttpRequest) -> HttpResponse:
    """htmx partial: the commission for the amount being typed."""
    quote, error = None, ""
    text = request.GET.get("amount", "")
    if text.strip():
        try:
            quote = services.withdraw_quote(amount=services.parse_amount(yuan=text))
        except WanxinError as exc:
            error = exc.message
    return render(request, "funds/_quote.html", {"quote": quote, "error": error})


# -- the hand-off to the bank and the way back ----------------------------------------------------


@customer_required
@require_GET
def go(request: HttpRequest, request_no: str) -> HttpResponse:
    """Carry one of the customer's own gateway requests to the bank (auto-submitting form)."""
    try:
        record = selectors.owned_gateway_request(request.user, request_no)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    try:
        fields = depository.gateway_envelope(record=record)
    except depository.AlreadyFinal as exc:
        return render(request, "funds/back.html", {"record": exc.record, "label": SERVICE_LABELS.get(
            exc.record.service_name, exc.record.service_name), "already": True}, status=409)
    response = render(request, "funds/handoff.html", {
        "action": f"{settings.BANK_URL.rstrip('/')}/gateway", "fields": fields, "record": record,
        "label": SERVICE_LABELS.get(record.service_name, record.service_name),
    })
    response["Cache-Control"] = "no-store"
    return response


@never_cache
@customer_required
@require_GET
def back(request: HttpRequest) -> HttpResponse:
    """Where the bank sends the browser back. Informational only: it changes nothing; the
    result arrives by notification (or the recovery job's query)."""
    record = None
    request_no = request.GET.get("requestNo", "")
    if request_no:
        try:
            record = selectors.owned_gateway_request(request.user, request_no)
        except NotFound:
            record = None
    return render(request, "funds/back.html", {
        "record": record, "label": SERVICE_LABELS.get(record.service_name, "") if record else "",
        "resp_code": request.GET.get("respCode", ""),
    })


# -- fund records ------------------------------------------------------------------------------------


def _filters_from(request: HttpRequest) -> selectors.RecordFilter:
    return selectors.record_filter(types=request.GET.getlist("type"), date_from=request.GET.get("date_from"),
                                   date_to=request.GET.get("date_to"))


@never_cache
@customer_required
@require_GET
def records(request: HttpRequest) -> HttpResponse:
    form = RecordFilterForm(request.GET or None)
    error, page = "", None
    try:
        filters = _filters_from(request)
        page = selectors.records_page(request.user, filters, after=request.GET.get("after") or None,
                                      before=request.GET.get("before") or None)
    except WanxinError as exc:
        error, filters = exc.message, selectors.RecordFilter()
    query = filters.as_query()
    return render(request, "funds/records.html", {
        "tab": "records",
        "form": form, "page": page, "error": error,
        "query": urlencode(query, doseq=True),
        "older_url": f"?{urlencode({**query, 'after': page.next_cursor}, doseq=True)}" if page and page.next_cursor else "",
        "newer_url": f"?{urlencode({**query, 'before': page.prev_cursor}, doseq=True)}" if page and page.prev_cursor else "",
        "account": selectors.account_for(request.user),
    })


@never_cache
@customer_required
@require_GET
def record_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        record = selectors.record_get(request.user, pk)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    return render(request, "funds/record_detail.html", {"record": record, "tab": "records"})


@customer_required
@require_GET
def records_csv(request: HttpRequest) -> HttpResponse:
    try:
        filters = _filters_from(request)
    except WanxinError as exc:
        messages.error(request, exc.message)
        return redirect(reverse("funds:records"))
    return exports.csv_response(request.user, filters)


@never_cache
@customer_required
@require_GET
def statistics(request: HttpRequest) -> HttpResponse:
    form = RecordFilterForm(request.GET or None)
    error = ""
    try:
        filters = _filters_from(request)
    except WanxinError as exc:
        error, filters = exc.message, selectors.RecordFilter()
    stats = selectors.statistics(request.user, filters)
    chart = bar_chart([month for month, _in, _out in stats.months], [
        Series(gettext("Money in"), [money_in for _m, money_in, _o in stats.months], color=IN_COLOUR),
        Series(gettext("Money out"), [money_out for _m, _i, money_out in stats.months], color=OUT_COLOUR)])
    return render(request, "funds/statistics.html", {
        "tab": "statistics",
        "form": form, "stats": stats, "chart": chart, "error": error,
        "query": urlencode(filters.as_query(), doseq=True),
    })
