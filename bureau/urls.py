from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from bureau.core.errors import api_not_found
from bureau.core.health import healthz

handler400 = "bureau.core.errors.handler400"
handler403 = "bureau.core.errors.handler403"
handler404 = "bureau.core.errors.handler404"
handler500 = "bureau.core.errors.handler500"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include("bureau.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path(
        "api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"
    ),
    # Unknown API paths answer the JSON problem body even with DEBUG on.
    re_path(r"^api/", api_not_found),
    path("", include("web.urls")),
]
