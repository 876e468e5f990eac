"""import_estates and import_footprints: the shared reader's GeoJSON, Shapefile and GeoPackage paths,
the same CRS options as import_grids (GCJ-02, CGCS2000 Gauss-Krüger), all-or-nothing rejects."""

import subprocess
from io import StringIO

import numpy as np
import pytest
import shapefile
from django.contrib.gis.gdal import SpatialReference
from django.contrib.gis.geos import Polygon
from django.core.management import CommandError, call_command

from common.crs import wgs84_to_gcj02
from layers.estates.models import Estate, ManagementType, RenovationProject
from tests.factories import small_tree, write_geojson

pytestmark = pytest.mark.django_db


def ring(lon_min, lat_min, lon_max, lat_max):
    return [[lon_min, lat_min], [lon_max, lat_min], [lon_max, lat_max], [lon_min, lat_max], [lon_min, lat_min]]


@pytest.fixture
def tree():
    return small_tree()


def run(command, *args, **options):
    out = StringIO()
    call_command(command, *args, stdout=out, stderr=StringIO(), verbosity=0, **options)
    return out.getvalue()


def test_geojson_estates_find_their_community_by_position(tmp_path, tree):
    path = write_geojson(
        tmp_path / "estates.geojson",
        [
            (
                {"name": "白塔小区", "households": 210, "buildings": 6, "jcnd": 1992, "glfs": "无", "party_org": "是"},
                ring(105.401, 28.931, 105.403, 28.933),
            ),
            (
                {"name": "水井沟小区", "households": "88", "buildings": 2, "management": "物业"},
                ring(105.401, 28.861, 105.403, 28.863),
            ),
        ],
    )
    assert run("import_estates", str(path)).startswith("created 2, updated 0")
    estates = {e.name: e for e in Estate.objects.select_related("community")}
    # 28.93°N is in community c1 (north of 28.90), 28.86°N in c2.
    assert estates["白塔小区"].community.code == "510502001001"
    assert estates["水井沟小区"].community.code == "510502001002"
    assert (
        estates["白塔小区"].households,
        estates["白塔小区"].year_built,
        estates["白塔小区"].management_type,
        estates["白塔小区"].has_party_organisation,
    ) == (210, 1992, ManagementType.NONE, True)
    assert estates["水井沟小区"].management_type == ManagementType.PROPERTY
    # Re-running updates in place.
    assert run("import_estates", str(path)).startswith("created 0, updated 2")


def test_gcj02_option_shifts_estates_back(tmp_path, tree):
    lon, lat = wgs84_to_gcj02(np.array([105.401, 105.403]), np.array([28.931, 28.933]))
    path = write_geojson(tmp_path / "gaode.geojson", [({"name": "高德小区"}, ring(lon[0], lat[0], lon[1], lat[1]))])
    run("import_estates", str(path), srs="gcj02")
    first = Estate.objects.get().boundary[0].exterior_ring[0]
    # GCJ-02 moves Luzhou by a few hundred metres; converted back, the corner is within 1e-6° (< 0.1 m).
    assert first == pytest.approx((105.401, 28.931), abs=1e-6)


def test_a_bad_feature_rejects_the_whole_file_unless_allowed(tmp_path, tree):
    path = write_geojson(
        tmp_path / "estates.geojson",
        [
            ({"name": "好小区", "management": "物业"}, ring(105.401, 28.931, 105.403, 28.933)),
            ({"name": "坏小区", "management": "外包"}, ring(105.404, 28.931, 105.406, 28.933)),
            ({"name": "境外小区"}, ring(105.60, 28.931, 105.61, 28.933)),
        ],
    )
    with pytest.raises(CommandError, match="2 feature"):
        run("import_estates", str(path))
    assert Estate.objects.count() == 0
    run("import_estates", str(path), allow_rejects=True)
    assert list(Estate.objects.values_list("name", flat=True)) == ["好小区"]


def test_gbk_shapefile_in_gauss_kruger(tmp_path, tree):
    base = tmp_path / "estates"
    polygon = Polygon(ring(105.401, 28.931, 105.403, 28.933), srid=4326)
    polygon.transform(4544)  # CGCS2000 3° GK, central meridian 105°E, eastings without zone number
    with shapefile.Writer(str(base), shapeType=shapefile.POLYGON, encoding="gbk") as writer:
        writer.field("XQMC", "C", 50)
        writer.field("HS", "N", 8)
        writer.field("SQDM", "C", 12)
        writer.poly([[list(xy) for xy in polygon.exterior_ring.coords]])
        writer.record("忠山小区", 320, "510502001001")
    base.with_suffix(".prj").write_text(SpatialReference(4544).wkt)
    with pytest.raises(CommandError, match="encoding"):
        run("import_estates", str(base.with_suffix(".shp")))
    run("import_estates", str(base.with_suffix(".shp")), encoding="gbk")
    estate = Estate.objects.get()
    assert (estate.name, estate.households, estate.community.code) == ("忠山小区", 320, "510502001001")
    assert estate.boundary.extent == pytest.approx((105.401, 28.931, 105.403, 28.933), abs=1e-7)


def test_footprints_from_geopackage_link_the_estates_they_cover(tmp_path, tree):
    estates = write_geojson(
        tmp_path / "estates.geojson",
        [
            ({"name": "甲"}, ring(105.401, 28.931, 105.403, 28.933)),
            ({"name": "乙"}, ring(105.404, 28.931, 105.406, 28.933)),
            ({"name": "丙"}, ring(105.407, 28.931, 105.409, 28.933)),
        ],
    )
    run("import_estates", str(estates))
    source = write_geojson(
        tmp_path / "footprints.geojson",
        [
            (
                {"name": "一期", "starts_on": "2026-03-01", "ends_on": "2026-09-30", "budget": 1200000},
                ring(105.400, 28.930, 105.4055, 28.934),
            ),
            # Ends exactly on 丙's west edge (105.407): touches it, does not cover it.
            ({"name": "二期"}, ring(105.4055, 28.930, 105.407, 28.934)),
        ],
    )
    target = tmp_path / "footprints.gpkg"
    subprocess.run(["ogr2ogr", "-f", "GPKG", "-a_srs", "EPSG:4490", str(target), str(source)], check=True)
    assert run("import_footprints", str(target), batch="implement").startswith("created 2")
    first = RenovationProject.objects.get(name="一期")
    assert sorted(first.estates.values_list("name", flat=True)) == ["乙", "甲"]
    assert (str(first.starts_on), str(first.ends_on), float(first.budget), first.status) == (
        "2026-03-01",
        "2026-09-30",
        1200000,
        "planned",
    )
    assert list(RenovationProject.objects.get(name="二期").estates.values_list("name", flat=True)) == ["乙"]
    assert first.status_changes.count() == 1
    with pytest.raises(CommandError):
        run("import_footprints", str(target), batch="someday")
