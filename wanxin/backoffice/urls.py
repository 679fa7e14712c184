from django.urls import include, path

from . import views

app_name = "backoffice"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("login", views.login_view, name="login"),
    path("logout", views.logout_view, name="logout"),
    path("password", views.password_change, name="password"),
    path("operators/", views.operators, name="operators"),
    path("operators/new", views.operator_new, name="operator_new"),
    path("operators/<int:operator_id>/roles", views.operator_roles, name="operator_roles"),
    path("operators/<int:operator_id>/deactivate", views.operator_deactivate, name="operator_deactivate"),
    path("operators/<int:operator_id>/activate", views.operator_activate, name="operator_activate"),
    path("operators/grants/<int:grant_id>", views.grant, name="grant"),
    path("operators/grants/<int:grant_id>/confirm", views.grant_confirm, name="grant_confirm"),
    path("operators/grants/<int:grant_id>/cancel", views.grant_cancel, name="grant_cancel"),
    path("audit/", views.audit, name="audit"),
    path("customers/", views.customers, name="customers"),
    path("customers/<int:customer_id>", views.customer, name="customer"),
    path("kyc/", include("wanxin.kyc.backoffice_urls")),
    path("risk/", include("wanxin.risk.urls")),
]
