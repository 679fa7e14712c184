from django.urls import path

from . import views

app_name = "statistics"
urlpatterns = [
    path("", views.platform, name="platform"),
    path("export.csv", views.platform_csv, name="csv"),
]
