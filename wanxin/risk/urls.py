"""Risk officers' pages, included by wanxin/backoffice/urls.py under /backoffice/risk/."""

from django.urls import path

from . import views

app_name = "risk"
urlpatterns = [
    path("", views.rules, name="rules"),
    path("rules/new/<str:key>", views.rule_new, name="rule_new"),
    path("rules/<int:rule_id>", views.rule_edit, name="rule_edit"),
    path("rules/<int:rule_id>/expire", views.rule_expire, name="rule_expire"),
    path("blacklist/", views.blacklist, name="blacklist"),
    path("blacklist/<int:entry_id>/expire", views.blacklist_expire, name="blacklist_expire"),
    path("score/", views.score, name="score"),
    path("score/<int:band_id>/delete", views.score_delete, name="score_delete"),
    path("checks/", views.checks, name="checks"),
]
