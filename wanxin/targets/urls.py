from django.urls import path

from . import views

app_name = "targets"
urlpatterns = [
    path("", views.targets, name="list"),
    path("export.csv", views.targets_csv, name="csv"),
    path("repayments", views.repayments, name="repayments"),
    path("<int:project_id>", views.target, name="detail"),
]
