from django.urls import path

from . import views

app_name = "bank"
urlpatterns = [
    path("", views.home, name="home"),
    path("service", views.service, name="service"),
    path("gateway", views.gateway_entry, name="gateway"),
    path("gateway/confirm", views.gateway_confirm, name="gateway-confirm"),
]
