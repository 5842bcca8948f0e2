"""Misuse alert routes (views in bureau/audit/api/alerts_views.py)."""

from django.urls import path

from bureau.audit.api import alerts_views as views

urlpatterns = [
    path("alerts/", views.AlertListView.as_view(), name="alert-list"),
    path(
        "alerts/<int:alert_id>/", views.AlertDetailView.as_view(), name="alert-detail"
    ),
]
