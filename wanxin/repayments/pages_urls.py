from django.urls import path

from . import pages

app_name = "repay"
urlpatterns = [
    path("", pages.plans, name="plans"),
    path("plans/<int:plan_id>/repay", pages.repay, name="repay"),
    path("projects/<int:project_id>/prepay", pages.prepay, name="prepay"),
    path("portfolio", pages.portfolio, name="portfolio"),
]
