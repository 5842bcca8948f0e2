"""Pages of the dashboards area: the bureau's dashboard and the furnisher's
disputes."""

from django.urls import path

from web.views.dashboards import dashboard
from web.views.disputes import dispute_answer_page, disputes

urlpatterns: list = [
    path("dashboard/", dashboard, name="dashboard"),
    path("disputes/", disputes, name="disputes"),
    path(
        "disputes/<int:dispute_id>/answer/",
        dispute_answer_page,
        name="dispute-answer",
    ),
]
