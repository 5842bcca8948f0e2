"""Server-rendered pages. Each area keeps its routes in its own module."""

from django.urls import include, path

from web.views.home import favicon, home

app_name = "web"

urlpatterns = [
    path("", home, name="home"),
    path("favicon.ico", favicon, name="favicon"),
    path("", include("web.urls_lookup")),
    path("", include("web.urls_uploads")),
    path("", include("web.urls_admin")),
    path("", include("web.urls_dashboards")),
]
