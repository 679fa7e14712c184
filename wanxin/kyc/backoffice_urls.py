"""Reviewer pages, included by wanxin/backoffice/urls.py under /backoffice/kyc/."""

from django.urls import path

from . import backoffice_views as views

app_name = "kyc"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("<int:application_id>", views.detail, name="detail"),
    path("<int:application_id>/approve", views.approve, name="approve"),
    path("<int:application_id>/reject", views.reject, name="reject"),
    path("documents/<int:document_id>", views.document, name="document"),
]
