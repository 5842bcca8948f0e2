"""Bulk screening routes (views in reports/api/screening_views.py)."""

from django.urls import path

from reports.api import screening_views as views

urlpatterns = [
    path("screenings/", views.ScreeningListCreateView.as_view(), name="screening-list"),
    path(
        "screenings/<int:screening_id>/",
        views.ScreeningDetailView.as_view(),
        name="screening-detail",
    ),
    path(
        "screenings/<int:screening_id>/results/",
        views.ScreeningResultsView.as_view(),
        name="screening-results",
    ),
]
