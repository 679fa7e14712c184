from django.urls import path

from . import views

app_name = "lending"
urlpatterns = [
    path("", views.hall, name="hall"),
    path("<int:project_id>", views.detail, name="detail"),
    path("<int:project_id>/invest", views.invest, name="invest"),
    path("apply", views.apply, name="apply"),
    path("mine", views.mine, name="mine"),
    path("tenders/<int:tender_id>/status", views.tender_status, name="tender-status"),
    # Operators (protected by require_operator_permission).
    path("review/", views.review_queue, name="review-queue"),
    path("review/<int:project_id>", views.review_detail, name="review-detail"),
    path("review/<int:project_id>/approve", views.review_approve, name="review-approve"),
    path("review/<int:project_id>/reject", views.review_reject, name="review-reject"),
    path("review/<int:project_id>/cancel", views.review_cancel, name="review-cancel"),
    path("review/<int:project_id>/propose", views.review_propose, name="review-propose"),
    path("review/disbursements/", views.disbursements, name="disbursements"),
    path("review/disbursements/<int:disbursement_id>/approve", views.disbursement_approve,
         name="disbursement-approve"),
    path("review/disbursements/<int:disbursement_id>/reject", views.disbursement_reject,
         name="disbursement-reject"),
]
