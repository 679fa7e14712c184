from django.urls import path

from . import views

app_name = "reconciliation"
urlpatterns = [
    path("", views.days, name="days"),
    path("run", views.run, name="run"),
    path("<str:date>/", views.day, name="day"),
    path("<str:date>/close", views.close, name="close"),
    path("differences/<int:difference_id>/requery", views.requery, name="requery"),
    path("differences/<int:difference_id>/explain", views.explain, name="explain"),
]
