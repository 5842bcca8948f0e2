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
        "subjects/<int:subject_id>/statements/",
        views.SubjectStatementsView.as_view(),
        name="subject-statements",
    ),
]
