"""Pages under /allocation/: the products on sale; per product, the quote form that shows
everything before confirming and the confirmation that applies and pays; the customer's
allocations with their fund dynamics and the "make up the risk fund" action."""

from __future__ import annotations

import secrets
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from wanxin.audit.guards import customer_required
from wanxin.core import money
from wanxin.core.errors import NotFound, WanxinError
from wanxin.funds.domain import fen_to_yuan_text
from wanxin.i18n import translated

from . import domain, selectors, services
from .forms import ApplyForm, QuoteForm


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    return render(request, "allocation/index.html", {"products": selectors.products_on_sale()})


@require_GET
def product(request: HttpRequest, product_id: int) -> HttpResponse:
    try:
        chosen = selectors.product_on_sale(product_id)
    except WanxinError as exc:
        raise Http404(exc.message) from exc
    form = QuoteForm(request.GET or None, product=chosen)
    quote = None
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            quote = selectors.quote(product=chosen, deposit=data["deposit"], multiple=data["multiple"],
                                    duration=data["duration"], start=data["start"])
        except WanxinError as exc:
            field = exc.code.removeprefix("invalid_")
            form.add_error(field if field in form.fields else None, exc.message)
    confirm = None
    if quote is not None:
        confirm = ApplyForm(initial={"product": chosen.pk, "deposit": quote.deposit, "multiple": quote.multiple,
                                     "duration": quote.duration, "pay_risk_fund": True,
                                     "token": secrets.token_urlsafe(16)})
    return render(request, "allocation/product.html", {"product": chosen, "form": form, "quote": quote,
                                                       "confirm": confirm})


@customer_required
@require_POST
def apply(request: HttpRequest) -> HttpResponse:
    form = ApplyForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The confirmation was incomplete; get the quote again."))
        return redirect("allocation:index")
    data = form.cleaned_data
    try:
        allocation = services.allocation_apply(customer=request.user, data=services.ApplicationInput(
            product_id=data["product"], deposit=data["deposit"], multiple=data["multiple"],
            duration=data["duration"], pay_risk_fund=data["pay_risk_fund"], token=data["token"]))
    except WanxinError as exc:
        messages.error(request, exc.message)
        query = urlencode({"deposit": fen_to_yuan_text(data["deposit"]), "multiple": data["multiple"],
                           "duration": data["duration"]})
        return redirect(f"{reverse('allocation:product', args=[data['product']])}?{query}")
    return redirect("allocation:detail", allocation.pk)


@customer_required
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    return render(request, "allocation/mine.html", {"allocations": selectors.allocations_of(request.user)[:200]})


def _own(request: HttpRequest, allocation_id: int):
    try:
        return selectors.allocation_of(request.user, allocation_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc


def _detail(request: HttpRequest, allocation, *, revealed=None, reveal_error: str = "") -> HttpResponse:
    response = render(request, "allocation/detail.html", {
        "allocation": allocation, "records": selectors.fund_dynamics(allocation),
        "can_make_up": allocation.status == domain.DEPOSIT_PAID and allocation.risk_fund_due > 0,
        "can_terminate": allocation.status in domain.RUNNING, "revealed": revealed, "reveal_error": reveal_error,
        "can_auto_renew": allocation.product_type == domain.MONTHLY and allocation.status in services.RENEWABLE,
        "requests": allocation.requests.order_by("-created_at")[:20],
    })
    response["Cache-Control"] = "private, no-store"
    return response


@customer_required
@require_GET
def detail(request: HttpRequest, allocation_id: int) -> HttpResponse:
    return _detail(request, _own(request, allocation_id))


@customer_required
@require_POST
def reveal(request: HttpRequest, allocation_id: int) -> HttpResponse:
    """The sub-account password, on this response only, after the login password."""
    allocation = _own(request, allocation_id)
    try:
        account = services.sub_account_reveal(customer=request.user, allocation_id=allocation_id,
                                              password=request.POST.get("password", ""))
    except WanxinError as exc:
        return _detail(request, allocation, reveal_error=exc.message)
    return _detail(request, allocation, revealed=account)


@customer_required
@require_POST
def ask(request: HttpRequest, allocation_id: int) -> HttpResponse:
    """A margin top-up or a profit withdrawal, typed in yuan; an operator reviews it."""
    _own(request, allocation_id)
    kind = request.POST.get("kind", "")
    try:
        if kind == domain.EXTENSION:
            months = request.POST.get("months", "")
            services.extension_apply(customer=request.user, allocation_id=allocation_id,
                                     months=int(months) if months.isdigit() and len(months) < 4 else None)
            messages.success(request, _("Your request was sent; an operator reviews it."))
            return redirect("allocation:detail", allocation_id)
        amount = money.parse_yuan(request.POST.get("amount", ""), maximum=settings.FUNDS_MAX_AMOUNT_FEN * 100)
        services.request_apply(customer=request.user, allocation_id=allocation_id, kind=kind, amount=amount)
    except money.AmountError as exc:
        messages.error(request, translated(exc))
    except WanxinError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Your request was sent; an operator reviews it."))
    return redirect("allocation:detail", allocation_id)


@customer_required
@require_POST
def terminate(request: HttpRequest, allocation_id: int) -> HttpResponse:
    _own(request, allocation_id)
    try:
        services.termination_apply(customer=request.user, allocation_id=allocation_id,
                                   reason=request.POST.get("reason", ""))
    except WanxinError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Your termination request was sent; an operator settles it."))
    return redirect("allocation:detail", allocation_id)


@customer_required
@require_POST
def auto_renew(request: HttpRequest, allocation_id: int) -> HttpResponse:
    """Turn automatic renewal of a monthly allocation on (``on=1``) or off (``on=0``)."""
    allocation = _own(request, allocation_id)
    on = {"1": True, "0": False}.get(request.POST.get("on", ""))
    try:
        allocation = services.auto_renew_set(customer=request.user, allocation_id=allocation_id, on=on)
    except WanxinError as exc:
        messages.error(request, exc.message)
        response = _detail(request, allocation)
        response.status_code = exc.status
        return response
    messages.success(request, _("Automatic renewal is on.") if allocation.auto_renew
                     else _("Automatic renewal is off."))
    return redirect("allocation:detail", allocation_id)


@customer_required
@require_POST
def risk_fund(request: HttpRequest, allocation_id: int) -> HttpResponse:
    _own(request, allocation_id)
    try:
        services.risk_fund_make_up(customer=request.user, allocation_id=allocation_id)
    except WanxinError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The risk fund was sent to the bank to be frozen."))
    return redirect("allocation:detail", allocation_id)
