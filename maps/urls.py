"""The map layer's URLs: the map pages, their API, vector tiles and OGC API - Features."""

from django.urls import path, register_converter

from maps import views
from maps.api import views as api
from maps.ogc import views as ogc


class GridCodeConverter:
    regex = "[0-9]{6,18}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(GridCodeConverter, "gridcode")

urlpatterns = [
    path("map/", views.MapIndexView.as_view(), name="map-index"),
    path("map/officer/", views.MapPageView.as_view(role="officer"), name="map-officer"),
    path("map/planner/", views.MapPageView.as_view(role="planner"), name="map-planner"),
    path("map/supervisor/", views.MapPageView.as_view(role="supervisor"), name="map-supervisor"),
    path("api/v1/map/grids/", api.GridBBoxView.as_view(), name="map-grids"),
    path("api/v1/map/case-counts/", api.CaseCountsView.as_view(), name="map-case-counts"),
    path("api/v1/map/grids/<gridcode:code>/", api.GridDetailView.as_view(), name="map-grid-detail"),
    path("api/v1/map/grids/<gridcode:code>/extent/", api.GridExtentView.as_view(), name="map-grid-extent"),
    path("tiles/grids/<int:z>/<int:x>/<int:y>.pbf", api.GridTileView.as_view(), name="tiles-grids"),
    path("tiles/incidents/<int:z>/<int:x>/<int:y>.pbf", api.CaseTileView.as_view(), name="tiles-incidents"),
    # OGC API paths have no trailing slash (clients join "collections/x/items" onto the landing URL).
    path("ogc/", ogc.LandingPageView.as_view(), name="ogc-landing"),
    path("ogc/conformance", ogc.ConformanceView.as_view(), name="ogc-conformance"),
    path("ogc/collections", ogc.CollectionsView.as_view(), name="ogc-collections"),
    path("ogc/collections/<str:collection_id>", ogc.CollectionView.as_view(), name="ogc-collection"),
    path("ogc/collections/<str:collection_id>/items", ogc.ItemsView.as_view(), name="ogc-items"),
    path("ogc/collections/<str:collection_id>/items/<str:feature_id>", ogc.ItemView.as_view(), name="ogc-item"),
]
