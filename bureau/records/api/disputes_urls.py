from django.urls import path

from bureau.records.api import disputes_views as views

urlpatterns = [
    path("disputes/", views.DisputeListCreateView.as_view(), name="dispute-list"),
    path(
        "disputes/<int:dispute_id>/",
        views.DisputeDetailView.as_view(),
        name="dispute-detail",
    ),
    path(
        "subjects/<int:subject_id>/inquiries/",
        views.SubjectInquiriesView.as_view(),
        name="subject-inquiries",
    ),
    path(
        "subjects/<int:subject_id>/statements/",
        views.SubjectStatementsView.as_view(),
        name="subject-statements",
    ),
    path(
        "subjects/<int:subject_id>/self-report/",
        views.SelfReportView.as_view(),
        name="subject-self-report",
    ),
]
