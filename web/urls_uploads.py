"""Pages of the uploads area."""

from django.urls import path

from web.views import uploads

urlpatterns = [
    path("batches/", uploads.batch_list, name="batch-list"),
    path("batches/upload/", uploads.batch_upload, name="batch-upload"),
    path("batches/<int:batch_id>/", uploads.batch_detail, name="batch-detail"),
    path(
        "batches/<int:batch_id>/progress/",
        uploads.batch_progress,
        name="batch-progress",
    ),
    path(
        "batches/<int:batch_id>/errors.csv",
        uploads.batch_errors_csv,
        name="batch-errors-csv",
    ),
]
