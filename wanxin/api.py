"""The JSON API (Django Ninja) with its OpenAPI schema at /api/v1/openapi.json."""

from django.core.exceptions import BadRequest, RequestDataTooBig, SuspiciousOperation
from django.http.multipartparser import MultiPartParserError
from ninja import NinjaAPI

from wanxin.core.errors import WanxinError
from wanxin.web.middleware import malformed, too_big

api = NinjaAPI(title="Wanxin API", version="1", urls_namespace="api-v1")


@api.exception_handler(WanxinError)
def wanxin_error(request, exc: WanxinError):
    return api.create_response(request, {"code": exc.code, "message": exc.message}, status=exc.status)


# A body read by a view rather than by InputGuardMiddleware: the same refusals, never a 500.
@api.exception_handler(RequestDataTooBig)
def body_too_big(request, exc: RequestDataTooBig):
    return too_big(request)


@api.exception_handler(MultiPartParserError)
@api.exception_handler(BadRequest)
@api.exception_handler(SuspiciousOperation)
def body_malformed(request, exc: Exception):
    return malformed(request)


@api.get("/health", tags=["meta"])
def health(request):
    return {"status": "ok"}


api.add_router("/accounts", "wanxin.accounts.api.router")
api.add_router("/notifications", "wanxin.notifications.api.router")
api.add_router("/funds", "wanxin.funds.api.router")
api.add_router("/kyc", "wanxin.kyc.api.router")
api.add_router("/backoffice", "wanxin.backoffice.api.router")
api.add_router("/calculator", "wanxin.repayments.api.router")
api.add_router("/loans", "wanxin.lending.api.router")
api.add_router("/repayments", "wanxin.repayments.api.plans_router")
api.add_router("/allocation", "wanxin.allocation.api.router")
