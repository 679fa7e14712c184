from django.urls import path

from . import views

app_name = "kyc"
urlpatterns = [
    path("", views.status_page, name="status"),
    path("declare", views.declare, name="declare"),
    path("documents", views.upload, name="upload"),
    path("documents/<int:document_id>", views.document, name="document"),
    path("documents/<int:document_id>/remove", views.remove, name="remove"),
    path("submit", views.submit, name="submit"),
]
