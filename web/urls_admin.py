"""Pages of the admin area."""

urlpatterns: list = []
