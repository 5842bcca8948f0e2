from django.urls import path

from members.api import views

urlpatterns = [
    path("members/me/", views.MemberMeView.as_view(), name="member-me"),
    path("keys/", views.ApiKeyListCreateView.as_view(), name="key-list"),
    path("keys/<int:key_id>/", views.ApiKeyDetailView.as_view(), name="key-detail"),
]
