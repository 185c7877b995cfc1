from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularJSONAPIView, SpectacularSwaggerView

from maas import errors, health
from maas.metrics import metrics_view

# The apps' routes are included by name: maas imports no app (pyproject.toml's import contracts).

v1 = [
    path("", include("tenants.urls")),
    path("", include("billing.urls")),
    path("", include("catalog.urls")),
    path("", include("training.urls")),
    path("", include("inference.urls")),
    path("", include("webhooks.urls")),
    path("openapi.json", SpectacularJSONAPIView.as_view(), name="openapi"),
    # Anything else under /v1 is a JSON 404, whatever DEBUG says.
    re_path(r"^.*$", errors.not_found_view),
]

urlpatterns = [
    path("v1/", include("inference.hot_urls")),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics_view, name="metrics"),
    path("v1/", include(v1)),
    path("webhooks/", include("billing.webhook_urls")),
    path("docs/", SpectacularSwaggerView.as_view(url_name="openapi"), name="docs"),
    path("admin/", admin.site.urls),
    path("console/", include("console.urls")),
]

handler400 = errors.bad_request_view
handler403 = errors.permission_denied_view
handler404 = errors.not_found_view
handler500 = errors.server_error_view
