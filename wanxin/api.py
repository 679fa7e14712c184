"""The JSON API (Django Ninja) with its OpenAPI schema at /api/v1/openapi.json."""

from ninja import NinjaAPI

from wanxin.core.errors import WanxinError

api = NinjaAPI(title="Wanxin API", version="1", urls_namespace="api-v1")


@api.exception_handler(WanxinError)
def wanxin_error(request, exc: WanxinError):
    return api.create_response(request, {"code": exc.code, "message": exc.message}, status=exc.status)


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
