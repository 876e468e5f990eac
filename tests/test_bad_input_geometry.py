"""What GeoJSONGeometryField accepts, and where it puts it: one conversion to EPSG:4326 at the edge."""

import pytest
from rest_framework import serializers

from common.crs import wgs84_to_gcj02
from common.geometry import GeoJSONGeometryField


class AreaInput(serializers.Serializer):
    area = GeoJSONGeometryField(types=("Point", "Polygon", "MultiPolygon", "GeometryCollection"))
    srs = serializers.CharField(required=False)


def parse(value, srs=None):
    form = AreaInput(data={"area": value, **({"srs": srs} if srs else {})})
    assert form.is_valid(), form.errors
    return form.validated_data["area"]


def test_wgs84_polygon_is_kept_as_given():
    ring = [[105.40, 28.90], [105.42, 28.90], [105.42, 28.92], [105.40, 28.92], [105.40, 28.90]]
    geom = parse({"type": "Polygon", "coordinates": [ring]})
    assert geom.srid == 4326 and geom.geom_type == "Polygon" and geom.valid
    assert geom.extent == pytest.approx((105.40, 28.90, 105.42, 28.92))


def test_cgcs2000_gauss_kruger_metres_become_degrees():
    # EPSG:4543 is CGCS2000 3° GK on central meridian 102°E without zone prefix: easting 500,000 m lies on
    # the central meridian itself, so the longitude comes back as exactly 102°.
    geom = parse({"type": "Point", "coordinates": [500000, 3200000]}, srs="EPSG:4543")
    assert geom.x == pytest.approx(102.0, abs=1e-9)
    assert 28.8 < geom.y < 29.0  # 3,200 km north of the equator on the GK projection ≈ 28.9°N


def test_gcj02_is_shifted_back_to_wgs84():
    lon, lat = wgs84_to_gcj02(105.44, 28.87)
    geom = parse({"type": "Point", "coordinates": [float(lon), float(lat)]}, srs="gcj02")
    # The inverse converges to 1e-9°: the WGS84 position comes back to well under a millimetre.
    assert (geom.x, geom.y) == pytest.approx((105.44, 28.87), abs=1e-8)


def test_a_flat_geometry_collection_and_a_json_string_are_accepted():
    text = (
        '{"type": "GeometryCollection", "geometries": [{"type": "Point", "coordinates": [105.41, 28.93]}, '
        '{"type": "Point", "coordinates": [105.42, 28.94]}]}'
    )
    geom = parse(text)
    assert geom.geom_type == "GeometryCollection" and len(geom) == 2


def test_the_output_is_geojson_again():
    field = GeoJSONGeometryField(types=("Point",))
    geom = field.to_internal_value({"type": "Point", "coordinates": [105.41, 28.93]})
    assert field.to_representation(geom) == {"type": "Point", "coordinates": [105.41, 28.93]}


def test_unknown_types_in_the_declaration_are_a_programming_error():
    with pytest.raises(ValueError):
        GeoJSONGeometryField(types=("Circle",))
