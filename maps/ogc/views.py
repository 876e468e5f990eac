"""OGC API - Features (Part 1: Core, GeoJSON) over the registered collections, for QGIS and friends.

Paths follow the standard: /ogc/ (landing page), /ogc/conformance, /ogc/collections,
/ogc/collections/{id}, /ogc/collections/{id}/items, /ogc/collections/{id}/items/{featureId}.
Items take bbox (CRS84), limit, offset and properties (a comma-separated subset to return), and
any published property as an equality filter (?status=handling, ?grid=510502001001001).
These are DRF views, so the REST API's authentication and permission settings apply to them too.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.views import APIView

from common.scopes import request_scope
from layers.accounts.permissions import SignedIn
from maps.api.serializers import BBoxField
from maps.ogc import collections

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
JSON = "application/json"
GEOJSON = "application/geo+json"
# Query parameters with a meaning of their own; every other name may filter on a property.
RESERVED = {"bbox", "bbox-crs", "limit", "offset", "properties", "f", "datetime"}
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
]


def _json(data: dict, content_type: str = JSON) -> HttpResponse:
    return HttpResponse(json.dumps(data, ensure_ascii=False), content_type=content_type)


def _link(request, path: str, rel: str, media: str, title: str = "") -> dict:
    link = {"href": request.build_absolute_uri(path), "rel": rel, "type": media}
    if title:
        link["title"] = title
    return link


def _collection_or_404(collection_id: str) -> collections.Collection:
    collection = collections.get(collection_id)
    if collection is None:
        raise NotFound(f"collectionId: no collection {collection_id!r}")
    return collection


class OGCFormatSerializer(serializers.Serializer):
    f = serializers.ChoiceField(
        choices=["json", "geojson"], required=False, help_text="only JSON encodings are offered"
    )


class OGCView(APIView):
    """Base: refuses f= values other than JSON with a 400 that names the parameter."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        OGCFormatSerializer(data={k: v for k, v in request.query_params.items() if k == "f"}).is_valid(
            raise_exception=True
        )


class LandingPageView(OGCView):
    """The OGC API landing page: links to the conformance declaration and the collections."""

    @extend_schema(operation_id="ogc_landing", responses=OpenApiTypes.OBJECT)
    def get(self, request):
        return _json(
            {
                "title": "gridgis OGC API - Features",
                "description": "Grids, inspection points, estates, renovation footprints, cases and audit findings.",
                "links": [
                    _link(request, "/ogc/", "self", JSON, "this document"),
                    _link(request, "/ogc/conformance", "conformance", JSON, "conformance classes"),
                    _link(request, "/ogc/collections", "data", JSON, "feature collections"),
                    _link(
                        request,
                        "/api/schema/?format=json",
                        "service-desc",
                        "application/vnd.oai.openapi+json;version=3.0",
                        "OpenAPI definition",
                    ),
                ],
            }
        )


class ConformanceView(OGCView):
    @extend_schema(operation_id="ogc_conformance", responses=OpenApiTypes.OBJECT)
    def get(self, request):
        return _json({"conformsTo": CONFORMANCE})


def _describe(request, collection: collections.Collection) -> dict:
    base = f"/ogc/collections/{collection.id}"
    extent = collection.extent()
    description = {
        "id": collection.id,
        "title": collection.title,
        "description": collection.description,
        "itemType": "feature",
        "crs": [CRS84],
        "links": [
            _link(request, base, "self", JSON),
            _link(request, f"{base}/items", "items", GEOJSON, "the features"),
        ],
    }
    if extent is not None:
        description["extent"] = {"spatial": {"bbox": [list(extent)], "crs": CRS84}}
    return description


class ScopedOGCView(OGCView):
    """Collections and their features need a sign-in; each reader gets the rows of their scope."""

    permission_classes = [SignedIn]


class CollectionsView(ScopedOGCView):
    @extend_schema(operation_id="ogc_collections", responses=OpenApiTypes.OBJECT)
    def get(self, request):
        return _json(
            {
                "links": [_link(request, "/ogc/collections", "self", JSON)],
                "collections": [_describe(request, c) for c in collections.available()],
            }
        )


class CollectionView(ScopedOGCView):
    @extend_schema(operation_id="ogc_collection", responses=OpenApiTypes.OBJECT)
    def get(self, request, collection_id: str):
        return _json(_describe(request, _collection_or_404(collection_id)))


class ItemsQuerySerializer(serializers.Serializer):
    bbox = BBoxField(required=False, help_text="minlon,minlat,maxlon,maxlat (CRS84)")
    limit = serializers.IntegerField(required=False, min_value=1)
    offset = serializers.IntegerField(required=False, min_value=0, default=0)
    properties = serializers.CharField(required=False, help_text="comma-separated property names to return")
    # Only CRS84 is offered; refusing other values beats silently answering in the wrong CRS.
    bbox_crs = serializers.ChoiceField(choices=[CRS84], required=False)

    def validate_limit(self, value: int) -> int:
        most = settings.GRIDGIS["OGC_MAX_LIMIT"]
        if value > most:
            raise serializers.ValidationError(f"at most {most}")
        return value


def _chosen_properties(collection: collections.Collection, text: str | None) -> list[str]:
    names = collection.property_names()
    if text is None:
        return names
    wanted = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in wanted if n not in names]
    if unknown:
        raise serializers.ValidationError({"properties": f"unknown {', '.join(unknown)}; offered: {', '.join(names)}"})
    return wanted


class ItemsView(ScopedOGCView):
    """A page of a collection's features as GeoJSON, with numberMatched and next/prev links."""

    @extend_schema(
        operation_id="ogc_items",
        parameters=[ItemsQuerySerializer, OpenApiParameter("bbox-crs", str)],
        responses={(200, GEOJSON): OpenApiTypes.OBJECT},
    )
    def get(self, request, collection_id: str):
        collection = _collection_or_404(collection_id)
        params = {k.replace("-", "_"): v for k, v in request.query_params.items()}
        query = ItemsQuerySerializer(data=params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        limit = data.get("limit") or settings.GRIDGIS["OGC_DEFAULT_LIMIT"]
        offset = data["offset"]
        properties = _chosen_properties(collection, data.get("properties"))
        # Any other parameter named like a published property filters on it (equality).
        offered = set(collection.property_names())
        equals = {k: v for k, v in request.query_params.items() if k in offered and k not in RESERVED}
        try:
            matched, features = collection.items(
                bbox=data.get("bbox"),
                limit=limit,
                offset=offset,
                properties=properties,
                equals=equals,
                scope=request_scope(request),
            )
        except ValueError as exc:
            raise serializers.ValidationError({str(exc).split(":", 1)[0]: str(exc).split(": ", 1)[1]}) from exc
        base = f"/ogc/collections/{collection.id}/items"
        links = [
            _link(request, request.get_full_path(), "self", GEOJSON),
            _link(request, f"/ogc/collections/{collection.id}", "collection", JSON),
        ]
        for rel, start in (("next", offset + limit), ("prev", max(offset - limit, 0))):
            if (rel == "next" and start < matched) or (rel == "prev" and offset > 0):
                query_string = request.GET.copy()
                query_string["offset"] = str(start)
                query_string["limit"] = str(limit)
                links.append(_link(request, f"{base}?{query_string.urlencode()}", rel, GEOJSON))
        return _json(
            {
                "type": "FeatureCollection",
                "features": features,
                "numberMatched": matched,
                "numberReturned": len(features),
                "timeStamp": timezone.now().isoformat(timespec="seconds"),
                "links": links,
            },
            GEOJSON,
        )


class ItemView(ScopedOGCView):
    @extend_schema(operation_id="ogc_item", responses={(200, GEOJSON): OpenApiTypes.OBJECT})
    def get(self, request, collection_id: str, feature_id: str):
        collection = _collection_or_404(collection_id)
        feature = collection.item(feature_id, collection.property_names(), scope=request_scope(request))
        if feature is None:
            raise NotFound(f"featureId: no feature {feature_id!r} in {collection.id!r}")
        base = f"/ogc/collections/{collection.id}"
        feature["links"] = [
            _link(request, f"{base}/items/{feature_id}", "self", GEOJSON),
            _link(request, base, "collection", JSON),
        ]
        return _json(feature, GEOJSON)
