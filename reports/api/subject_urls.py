from django.urls import path

from reports.api import subject_views as views

urlpatterns = [
    path(
        "subjects/<int:subject_id>/inquiries/",
        views.SubjectInquiriesView.as_view(),
        name="subject-inquiries",
    ),
    path(
        "subjects/<int:subject_id>/self-report/",
        views.SelfReportView.as_view(),
        name="subject-self-report",
    ),
]
