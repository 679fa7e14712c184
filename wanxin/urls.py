from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path

from wanxin.web import views as web_views

urlpatterns = [
    path("health", web_views.health),
    path("favicon.ico", web_views.favicon),
    path("i18n/", include("django.conf.urls.i18n")),  # set_language: the switch on every page
]

if settings.SERVES_BANK:
    from wanxin.bank.admin import bank_console

    # The console sits outside the bank's URL namespace so the admin can reverse its own URLs.
    urlpatterns += [path("bank/console/", bank_console.urls), path("bank/", include("wanxin.bank.urls"))]

if settings.SERVES_PLATFORM:
    from wanxin.api import api
    from wanxin.repayments import pages as repayment_pages
    from wanxin.statistics import views as statistics_views

    urlpatterns += [
        path("", include("wanxin.depository.urls")),
        path("api/v1/", api.urls),
        path("backoffice/admin/", admin.site.urls),
        path("accounts/", include("wanxin.accounts.urls")),
        path("dev/", include("wanxin.notifications.urls")),
        path("funds/", include("wanxin.funds.urls")),
        path("kyc/", include("wanxin.kyc.urls")),
        path("backoffice/reconciliation/", include("wanxin.reconciliation.urls")),
        path("backoffice/statistics/", include("wanxin.statistics.urls")),
        path("backoffice/", include("wanxin.backoffice.urls")),
        path("disclosure", statistics_views.disclosure, name="disclosure"),
        path("loans/review/overdue", repayment_pages.overdue_review, name="loans-overdue"),
        path("loans/review/releases", repayment_pages.releases_refused, name="loans-releases"),
        re_path(r"^loans/review/releases/(?P<kind>tender|repayment)/(?P<object_id>[0-9]+)/retry$",
                repayment_pages.release_retry, name="loans-release-retry"),
        path("loans/review/targets/", include("wanxin.targets.urls")),
        path("loans/", include("wanxin.lending.urls")),
        path("repayments/", include("wanxin.repayments.pages_urls")),
        path("allocation/", include("wanxin.allocation.urls")),
        path("calculator", include("wanxin.repayments.urls")),
        path("", web_views.home, name="home"),
    ]
