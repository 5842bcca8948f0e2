"""Pages of the lookup area."""

from django.urls import path

from web.views.lookup import lookup, profile

urlpatterns = [
    path("lookup/", lookup, name="lookup"),
    path("lookup/<uuid:inquiry_id>/", profile, name="profile"),
]
