from pathlib import Path

from django.conf import settings
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import cache_control

FAVICON = Path(__file__).resolve().parent / "static" / "web" / "favicon.ico"


def home(request: HttpRequest) -> HttpResponse:
    """Loans raising money now, the platform's headline figures, the calculator, ways in."""
    # Imported here: this module also serves the bank-only role, where these apps are absent.
    from wanxin.accounts import selectors as accounts
    from wanxin.lending import selectors as lending
    from wanxin.repayments import selectors as repayments

    return render(request, "web/home.html", {
        "bank_url": settings.BANK_URL,
        "featured": lending.featured_collecting(limit=3),
        "figures": {
            "lent": lending.lent_total(),
            "repaid": repayments.repaid_total(),
            "customers": accounts.customer_count(),
            "overdue_rate": repayments.overdue_rate(),
        },
    })


def health(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok", "role": settings.ROLE})


@cache_control(max_age=86400, public=True)
def favicon(request: HttpRequest) -> FileResponse:
    """Browsers ask for /favicon.ico on every page that names no icon (the bank's pages, files)."""
    return FileResponse(open(FAVICON, "rb"), content_type="image/x-icon")
