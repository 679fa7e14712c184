from django.urls import path

from . import views

app_name = "funds"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("account/open", views.open_account, name="open-account"),
    path("recharge", views.recharge, name="recharge"),
    path("withdraw", views.withdraw, name="withdraw"),
    path("withdraw/quote", views.withdraw_quote, name="withdraw-quote"),
    path("go/<str:request_no>", views.go, name="go"),
    path("back", views.back, name="back"),
    path("records", views.records, name="records"),
    path("records.csv", views.records_csv, name="records-csv"),
    path("records/<int:pk>", views.record_detail, name="record"),
    path("statistics", views.statistics, name="statistics"),
]
