from django.urls import path

from . import views

app_name = "depository"
urlpatterns = [
    path("api/v1/depository/notify", views.notify, name="notify"),
    path("depository/gateway/<str:request_no>", views.handoff, name="handoff"),
    path("depository/callback", views.callback, name="callback"),
]
