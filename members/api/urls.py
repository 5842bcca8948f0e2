from django.urls import path

from members.api import views

urlpatterns = [
    path("members/", views.MemberListView.as_view(), name="member-list"),
    path("members/me/", views.MemberMeView.as_view(), name="member-me"),
    path(
        "members/<slug:code>/suspend/",
        views.MemberSuspendView.as_view(),
        name="member-suspend",
    ),
    path(
        "members/<slug:code>/reinstate/",
        views.MemberReinstateView.as_view(),
        name="member-reinstate",
    ),
    path("keys/", views.ApiKeyListCreateView.as_view(), name="key-list"),
    path("keys/<int:key_id>/", views.ApiKeyDetailView.as_view(), name="key-detail"),
    path(
        "keys/<int:key_id>/rotate/", views.ApiKeyRotateView.as_view(), name="key-rotate"
    ),
]
