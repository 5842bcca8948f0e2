"""Pages of the uploads area."""

urlpatterns: list = []
