"""URL map: the REST API under /api/v1/, its OpenAPI schema, the admin."""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

urlpatterns = [
    path("", RedirectView.as_view(url="/map/", permanent=False), name="home"),
    path("admin/", admin.site.urls),
    path("accounts/", include("layers.accounts.urls")),
    path("", include("frontend.urls")),
    path("report/", include("citizen.urls")),
    path("field/", include("field.urls")),
    path("", include("office.urls")),
    path("api/v1/", include("layers.accounts.api.urls")),
    path("api/v1/", include("layers.grids.api.urls")),
    path("api/v1/", include("layers.incidents.api.urls")),
    path("api/v1/", include("layers.inspections.api.urls")),
    path("api/v1/", include("layers.estates.api.urls")),
    path("api/v1/", include("layers.audits.api.urls")),
    path("api/v1/", include("common.jobs_api")),
    path("api/v1/", include("common.calendar_api")),
    path("api/v1/", include("common.notifications_api")),
    path("open311/v2/", include("layers.incidents.open311.urls")),
    path("", include("maps.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file: no inline script (CSP).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
]
