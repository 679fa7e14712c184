from django.urls import path

app_name = "risk"
urlpatterns: list = []
