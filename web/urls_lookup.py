"""Pages of the lookup area."""

urlpatterns: list = []
