"""Monitoring routes (views in reports/api/monitoring_views.py)."""

from django.urls import path

from reports.api import monitoring_views as views

urlpatterns = [
    path("watches/", views.WatchListCreateView.as_view(), name="watch-list"),
    path(
        "watches/<int:watch_id>/", views.WatchDetailView.as_view(), name="watch-detail"
    ),
    path("webhooks/", views.WebhookListCreateView.as_view(), name="webhook-list"),
    path(
        "webhooks/<int:webhook_id>/",
        views.WebhookDetailView.as_view(),
        name="webhook-detail",
    ),
]
