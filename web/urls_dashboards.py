"""Pages of the dashboards area."""

urlpatterns: list = []
