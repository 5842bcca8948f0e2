"""Pages of the admin area: the member admin's keys, users and usage."""

from django.urls import path

from web.views import member_admin

urlpatterns = [
    path("keys/", member_admin.keys, name="keys"),
    path("keys/new/", member_admin.key_create, name="key-create"),
    path("keys/created/", member_admin.key_created, name="key-created"),
    path("keys/<int:key_id>/revoke/", member_admin.key_revoke, name="key-revoke"),
    path("keys/<int:key_id>/rotate/", member_admin.key_rotate, name="key-rotate"),
]
