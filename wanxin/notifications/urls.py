from django.urls import path

from . import views

app_name = "notifications"
urlpatterns = [path("sms", views.dev_sms, name="dev_sms")]
