from django.urls import path

from . import board, desk, views

app_name = "allocation"
desk_patterns = [
    path("desk/", desk.queues, name="desk"),
    path("desk/risk-board", board.risk_board, name="desk-risk-board"),
    path("desk/statuses", desk.statuses_upload, name="desk-statuses"),
    path("desk/<int:allocation_id>", desk.allocation, name="desk-allocation"),
    path("desk/<int:allocation_id>/call", desk.call, name="desk-call"),
    path("desk/<int:allocation_id>/approve", desk.approve, name="desk-approve"),
    path("desk/<int:allocation_id>/reject", desk.reject, name="desk-reject"),
    path("desk/<int:allocation_id>/status", desk.status, name="desk-status"),
    path("desk/<int:allocation_id>/propose", desk.propose, name="desk-propose"),
    path("desk/settlements/<int:settlement_id>/approve", desk.settlement_approve, name="desk-settlement-approve"),
    path("desk/settlements/<int:settlement_id>/reject", desk.settlement_reject, name="desk-settlement-reject"),
    path("desk/settlements/<int:settlement_id>/retry", desk.settlement_retry, name="desk-settlement-retry"),
    path("desk/requests/<int:request_id>/approve", desk.request_approve, name="desk-request-approve"),
    path("desk/requests/<int:request_id>/reject", desk.request_reject, name="desk-request-reject"),
]
urlpatterns = [*desk_patterns,
    path("", views.index, name="index"),
    path("products/<int:product_id>", views.product, name="product"),
    path("apply", views.apply, name="apply"),
    path("mine", views.mine, name="mine"),
    path("mine/<int:allocation_id>", views.detail, name="detail"),
    path("mine/<int:allocation_id>/risk-fund", views.risk_fund, name="risk-fund"),
    path("mine/<int:allocation_id>/sub-account", views.reveal, name="reveal"),
    path("mine/<int:allocation_id>/terminate", views.terminate, name="terminate"),
    path("mine/<int:allocation_id>/auto-renew", views.auto_renew, name="auto-renew"),
    path("mine/<int:allocation_id>/requests", views.ask, name="ask"),
]
