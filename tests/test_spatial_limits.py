"""Every spatial input has an area limit (GRIDGIS MAX_GEOMETRY_KM2, on its extent) besides the vertex
limit: the security test's 1° × 0.8° planner footprint answered in 40 s with every officer and leader
of the area. The first test enumerates every geometry field of the layers' API serializers.
"""

import importlib
import inspect

import pytest
from rest_framework import serializers
from rest_framework.test import APIClient

from common.geometry import GeoJSONGeometryField
from tests.factories import small_tree
from tests.factories_estates import make_project, make_user

pytestmark = pytest.mark.django_db
MODULES = ["layers.incidents.api.serializers", "layers.inspections.api.serializers", "layers.estates.api.serializers"]
# 1° × 0.8° around Luzhou: about 97 km × 89 km ≈ 8,600 km², over the default 400 km².
WIDE = (105.0, 28.5, 106.0, 29.3)


def wide(kind: str) -> dict:
    xmin, ymin, xmax, ymax = WIDE
    ring = [[xmin, ymin], [xmax, ymin], [xmax, ymax], [xmin, ymax], [xmin, ymin]]
    line = [[xmin, ymin], [xmax, ymax]]
    return {
        "Polygon": {"type": "Polygon", "coordinates": [ring]},
        "MultiPolygon": {"type": "MultiPolygon", "coordinates": [[ring]]},
        "LineString": {"type": "LineString", "coordinates": line},
        "MultiLineString": {"type": "MultiLineString", "coordinates": [line]},
        "MultiPoint": {"type": "MultiPoint", "coordinates": line},
    }[kind]


def geometry_fields():
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, serializers.BaseSerializer) and cls.__module__ == module_name:
                for name, field in cls().fields.items():
                    if isinstance(field, GeoJSONGeometryField) and not field.read_only:
                        yield cls, name, field


def test_every_geometry_input_refuses_an_extent_over_the_area_limit():
    found = list(geometry_fields())
    assert {name for _, name, _ in found} >= {"footprint", "boundary", "geometry"}
    checked = 0
    for cls, name, field in found:
        for kind in sorted(field.types - {"Point", "GeometryCollection"}):
            with pytest.raises(serializers.ValidationError) as refused:
                field.run_validation(wide(kind))
            assert "over the limit of 400 km²" in str(refused.value.detail), (cls.__name__, name, kind)
            checked += 1
    assert checked >= 3


@pytest.fixture
def planner():
    small_tree()
    api = APIClient()
    api.force_authenticate(make_user("planner", "planner"))
    return api


def test_a_wide_footprint_is_refused_at_creation_and_a_stored_one_by_the_overlay(planner, settings):
    body = {"type": "Feature", "geometry": wide("Polygon"), "properties": {"name": "全市改造", "batch": "implement"}}
    created = planner.post("/api/v1/renovation-projects/", body, format="json")
    assert created.status_code == 400 and created.json()["detail"].startswith("footprint: its extent covers")
    stored = make_project(WIDE)  # e.g. from before the limit, or through the admin
    overlay = planner.get(f"/api/v1/renovation-projects/{stored.pk}/overlay/")
    assert overlay.status_code == 400 and "too large for an overlay" in overlay.json()["detail"]
    settings.GRIDGIS = {**settings.GRIDGIS, "MAX_GEOMETRY_KM2": 20_000}  # the limit is a setting
    assert planner.get(f"/api/v1/renovation-projects/{stored.pk}/overlay/").status_code == 200


def test_a_track_across_the_province_is_refused():
    from layers.inspections.tracks import TrackError, read_geojson

    with pytest.raises(TrackError, match="too large"):
        read_geojson(wide("LineString"))
