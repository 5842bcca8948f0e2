from django.urls import path

from reports.api import views

urlpatterns = [
    path("queries/", views.QueryView.as_view(), name="query"),
    path(
        "queries/<uuid:inquiry_id>/report/", views.ReportView.as_view(), name="report"
    ),
    path("inquiries/", views.InquiryListView.as_view(), name="inquiry-list"),
]
