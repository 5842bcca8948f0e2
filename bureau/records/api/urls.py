from django.urls import path

from bureau.records.api import views

urlpatterns = [
    path("batches/", views.BatchListCreateView.as_view(), name="batch-list"),
    path(
        "batches/<int:batch_id>/", views.BatchDetailView.as_view(), name="batch-detail"
    ),
    path(
        "batches/<int:batch_id>/errors/",
        views.BatchErrorsView.as_view(),
        name="batch-errors",
    ),
    path(
        "batches/<int:batch_id>/share/",
        views.BatchShareView.as_view(),
        name="batch-share",
    ),
]
