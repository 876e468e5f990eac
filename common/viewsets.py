"""DRF view mixins a layer's API stands on: rows narrowed to the reader's scope, and a GeoJSON listing
with the guarded bbox filter and capped pages. Each view names its own rows and visibility rule; nothing
here names a layer."""

from __future__ import annotations

from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend

from common.listing import LimitedGeoJsonPagination, SafeInBBoxFilter
from common.scopes import request_scope, visible


class ScopedRows:
    """DRF view mixin: the view's `queryset` (all its rows, a selector's queryset) narrowed by the
    visibility rule `scope_kind` (registered in common.scopes by the layer) to what the request's reader
    may see; an out-of-scope detail is then a 404."""

    scope_kind: str

    def get_queryset(self) -> QuerySet:
        return visible(self.scope_kind, super().get_queryset(), request_scope(self.request))


class GeoJsonListing(ScopedRows):
    """A scoped layer listed as a GeoJSON FeatureCollection: pages capped at GRIDGIS["MAX_PAGE_SIZE"],
    django-filter's `filterset_fields`, and `?in_bbox=` on the geometry the features carry (the
    serializer's `geo_field`), counting features that overlap the box (a view of points may say
    `bbox_filter_include_overlapping = False`)."""

    pagination_class = LimitedGeoJsonPagination
    filter_backends = [DjangoFilterBackend, SafeInBBoxFilter]
    bbox_filter_include_overlapping = True

    @property
    def bbox_filter_field(self) -> str:
        return self.get_serializer_class().Meta.geo_field


def current_values_with(instance, names: list[str], changes: dict) -> dict:
    """The whole set of fields a saving service takes, for a partial update: the instance's current
    values of `names`, overridden by the validated `changes` (a PATCH sends only what it changes)."""
    return {name: getattr(instance, name) for name in names} | dict(changes)


def valid_query(request, serializer_class) -> dict:
    """The request's query parameters validated by `serializer_class`; a 400 naming the bad one."""
    query = serializer_class(data=request.query_params)
    query.is_valid(raise_exception=True)
    return query.validated_data
