"""The map API: grids by bbox as GeoJSON built in SQL, a grid's extent by code, vector tiles."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpResponse
from django.utils.cache import patch_vary_headers
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from common.scopes import request_scope
from common.viewsets import valid_query
from layers.accounts.permissions import SignedIn, StaffOnly
from layers.grids.models import Level
from maps import selectors, tiles
from maps.api.serializers import BBoxField, GridBBoxQuerySerializer, LevelsField

MVT_CONTENT_TYPE = "application/vnd.mapbox-vector-tile"
GEOJSON = "application/geo+json"


def _geojson_read(operation_id: str, query_serializer):
    """The schema of a GET whose answer is GeoJSON built by PostGIS, asked with `query_serializer`."""
    return extend_schema(
        operation_id=operation_id, parameters=[query_serializer], responses={(200, GEOJSON): OpenApiTypes.OBJECT}
    )


class MapAPIView(APIView):
    """The map layers are staff's: signed in with a staff role, and each answer holds the reader's
    scope only (layers.accounts.roles). The public finds its grid through /api/v1/locate/."""

    permission_classes = [StaffOnly]


class GridBBoxView(MapAPIView):
    """Grids of some levels inside a bbox, as one GeoJSON FeatureCollection built by PostGIS.

    The map pages call this on every pan and zoom with the visible bbox; `truncated` says whether
    more than `limit` grids matched (the page then asks for a coarser level).
    """

    @_geojson_read("map_grids_bbox", GridBBoxQuerySerializer)
    def get(self, request):
        data = valid_query(request, GridBBoxQuerySerializer)
        body = selectors.grids_feature_collection(
            selectors.GridQuery(
                bbox=data["bbox"],
                levels=data["level"],
                prefix=data["prefix"],
                limit=data.get("limit") or settings.GRIDGIS["MAP_MAX_FEATURES"],
                scope_patterns=_tuple_or_none(request_scope(request).code_patterns("grid")),
            )
        )
        return HttpResponse(body, content_type=GEOJSON)


def _tuple_or_none(patterns: list[str] | None) -> tuple[str, ...] | None:
    return None if patterns is None else tuple(patterns)


GRID_OR_404 = {200: OpenApiTypes.OBJECT, 404: OpenApiResponse(description="no such grid")}


def _grid_found(answer, code: str):
    """A selector's answer about the grid with `code`; a 404 when no active grid in scope has that code."""
    if answer is None:
        raise Http404(f"code: no active grid has code {code!r}")
    return answer


class GridExtentView(MapAPIView):
    """The bbox of the grid with a code, so a map can jump to it."""

    @extend_schema(operation_id="map_grid_extent", responses=GRID_OR_404)
    def get(self, request, code: str):
        extent = _grid_found(selectors.grid_extent(code, request_scope(request)), code)
        return Response({"code": code, "bbox": list(extent)})


class GridDetailView(MapAPIView):
    """A grid and who answers for it (leaders and officers walking up the tree, departments): a popup's body."""

    @extend_schema(operation_id="map_grid_detail", responses=GRID_OR_404)
    def get(self, request, code: str):
        return Response(_grid_found(selectors.grid_detail(code, request_scope(request)), code))


class _TileView(MapAPIView):
    def tile_response(self, body: bytes) -> HttpResponse:
        response = HttpResponse(body, content_type=MVT_CONTENT_TYPE)
        # A tile holds what its reader may see: never from a shared cache to someone else.
        response["Cache-Control"] = f"private, max-age={settings.GRIDGIS['TILE_MAX_AGE']}"
        patch_vary_headers(response, ("Cookie", "Authorization"))
        return response


class GridTileView(_TileView):
    """A Mapbox vector tile of grid boundaries (layer "grids"); `?level=` overrides the zoom's level."""

    @extend_schema(operation_id="tiles_grids", responses={(200, MVT_CONTENT_TYPE): OpenApiTypes.BINARY})
    def get(self, request, z: int, x: int, y: int):
        level = None
        if "level" in request.query_params:
            try:
                level = Level.from_name(request.query_params["level"])
            except ValueError as exc:
                return Response({"detail": f"level: {exc}"}, status=400)
        try:
            return self.tile_response(tiles.grid_tile(z, x, y, level, scope=request_scope(request)))
        except tiles.TileOutOfRange as exc:
            raise Http404(str(exc)) from exc


class CaseTileView(_TileView):
    """A Mapbox vector tile of cases: counts per grid at low zoom, the cases themselves when close.
    A citizen signed in sees their own reports here (from the point zoom); staff their scope."""

    permission_classes = [SignedIn]

    @extend_schema(operation_id="tiles_incidents", responses={(200, MVT_CONTENT_TYPE): OpenApiTypes.BINARY})
    def get(self, request, z: int, x: int, y: int):
        try:
            return self.tile_response(tiles.case_tile(z, x, y, tiles.case_source(), scope=request_scope(request)))
        except tiles.TileOutOfRange as exc:
            raise Http404(str(exc)) from exc


class CaseCountQuerySerializer(serializers.Serializer):
    bbox = BBoxField(help_text="minlon,minlat,maxlon,maxlat in EPSG:4326")
    level = LevelsField(
        required=False, default=(int(Level.GRID),), help_text="grid levels whose counts to return (default grid)"
    )


class CaseCountsView(MapAPIView):
    """Case counts per grid (from the last refresh) at a point inside each grid: the heatmap's data,
    for the grids of the reader's subtree (all for supervisors and dispatchers)."""

    @_geojson_read("map_case_counts", CaseCountQuerySerializer)
    def get(self, request):
        data = valid_query(request, CaseCountQuerySerializer)
        body = selectors.case_counts(bbox=data["bbox"], levels=data["level"], scope=request_scope(request))
        return HttpResponse(body, content_type=GEOJSON)
