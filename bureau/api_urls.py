"""`/api/v1/`: each app contributes its routes."""

from django.urls import include, path

app_name = "api"

urlpatterns = [
    # First: POST /queries/ is the busiest route, and Django tries them in order.
    path("", include("reports.api.urls")),
    path("", include("members.api.urls")),
    path("", include("bureau.records.api.urls")),
    path("", include("bureau.records.api.disputes_urls")),
    path("", include("reports.api.subject_urls")),
    path("", include("reports.api.screening_urls")),
    path("", include("reports.api.monitoring_urls")),
    path("", include("bureau.audit.api.urls")),
    path("", include("bureau.audit.api.alerts_urls")),
]
