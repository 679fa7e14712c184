from django.urls import path

from . import views

app_name = "repayments"
urlpatterns = [
    path("", views.calculator, name="calculator"),
]
