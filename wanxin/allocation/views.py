"""Pages under /allocation/: the products on sale and, per product, the quote form that
shows everything before confirming."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from wanxin.core.errors import WanxinError

from . import selectors
from .forms import QuoteForm


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
    return render(request, "allocation/product.html", {"product": chosen, "form": form, "quote": quote})
