from django.urls import path

from . import views

app_name = "allocation"
urlpatterns = [
    path("", views.index, name="index"),
    path("products/<int:product_id>", views.product, name="product"),
    path("apply", views.apply, name="apply"),
    path("mine", views.mine, name="mine"),
    path("mine/<int:allocation_id>", views.detail, name="detail"),
    path("mine/<int:allocation_id>/risk-fund", views.risk_fund, name="risk-fund"),
    path("mine/<int:allocation_id>/sub-account", views.reveal, name="reveal"),
    path("mine/<int:allocation_id>/terminate", views.terminate, name="terminate"),
]
