"""import_grids: real GCJ-02 boundary files, Shapefiles (GBK, .prj, Gauss-Krüger), GeoPackage."""

import json
import subprocess
from pathlib import Path

import pytest
import shapefile
from django.conf import settings
from django.contrib.gis.gdal import SpatialReference
from django.contrib.gis.geos import Polygon
from django.core.management import CommandError, call_command
from django.db import connection

from common.crs import parse_srs
from common.importing import SourceError, read_source
from layers.grids.importing import ImportRejected, import_grids
from layers.grids.models import Grid, Level
from tests.factories import write_geojson

pytestmark = pytest.mark.django_db
BOUNDARIES = Path(settings.BASE_DIR) / "fixtures" / "boundaries"
GCJ02 = parse_srs("gcj02")


def area_km2(code: str) -> float:
    with connection.cursor() as cursor:
        cursor.execute("SELECT ST_Area(boundary::geography) / 1e6 FROM grids_grid WHERE code = %s", [code])
        return cursor.fetchone()[0]


def import_luzhou():
    call_command(
        "import_grids", str(BOUNDARIES / "510500.geojson"), level="city", srs="gcj02", name="泸州市", verbosity=0
    )
    for code, name in (("510502", "江阳区"), ("510503", "纳溪区"), ("510504", "龙马潭区")):
        call_command(
            "import_grids",
            str(BOUNDARIES / f"{code}.geojson"),
            level="district",
            parent="510500",
            srs="gcj02",
            name=name,
            verbosity=0,
        )


def test_real_districts_import_with_their_areas():
    import_luzhou()
    assert list(Grid.objects.order_by("code").values_list("code", "level", "parent__code")) == [
        ("510500", Level.CITY, None),
        ("510502", Level.DISTRICT, "510500"),
        ("510503", Level.DISTRICT, "510500"),
        ("510504", Level.DISTRICT, "510500"),
    ]
    # Areas on the WGS84 ellipsoid (PostGIS geography) after the GCJ-02 → WGS84 conversion; the
    # boundary files' README measured 649, 1,153 and 333 km² in UTM 48N.
    assert area_km2("510502") == pytest.approx(649, rel=0.005)
    assert area_km2("510503") == pytest.approx(1153, rel=0.005)
    assert area_km2("510504") == pytest.approx(333, rel=0.005)


def test_gcj02_boundaries_are_shifted_back_by_hundreds_of_metres():
    import_luzhou()
    raw = json.loads((BOUNDARIES / "510502.geojson").read_text())
    gcj_lon, gcj_lat = raw["coordinates"][0][0][0]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ST_Distance(ST_PointN(ST_ExteriorRing(ST_GeometryN(boundary, 1)), 1)::geography,"
            " ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography) FROM grids_grid WHERE code = '510502'",
            [gcj_lon, gcj_lat],
        )
        shift = cursor.fetchone()[0]
    assert 300 < shift < 800


def test_reimport_updates_in_place():
    import_luzhou()
    ids = dict(Grid.objects.values_list("code", "id"))
    summary = import_grids(
        path=BOUNDARIES / "510502.geojson", level=Level.DISTRICT, parent_code="510500", srs=GCJ02, name="江阳区"
    )
    assert summary.unchanged == ["510502"] and not summary.created
    # Read as WGS84 (wrong on purpose) the boundary moves: same row, new version.
    summary = import_grids(
        path=BOUNDARIES / "510502.geojson", level=Level.DISTRICT, parent_code="510500", name="江阳区"
    )
    assert summary.updated == ["510502"]
    grid = Grid.objects.get(code="510502")
    assert grid.id == ids["510502"] and grid.version == 2
    assert Grid.objects.count() == 4


SQUARE_W = [[105.40, 28.85], [105.45, 28.85], [105.45, 28.95], [105.40, 28.95], [105.40, 28.85]]
SQUARE_E = [[105.45, 28.85], [105.50, 28.85], [105.50, 28.95], [105.45, 28.95], [105.45, 28.85]]
BOWTIE = [[105.40, 28.85], [105.45, 28.95], [105.45, 28.85], [105.40, 28.95], [105.40, 28.85]]


@pytest.fixture
def district():
    from tests.factories import make_grid

    return make_grid("510502", Level.DISTRICT, (105.40, 28.85, 105.50, 28.95))


def test_streets_find_their_parent_by_code(tmp_path, district):
    path = write_geojson(
        tmp_path / "streets.geojson",
        [
            ({"code": "510502001", "name": "南城街道"}, SQUARE_W),
            ({"code": "510502002", "name": "北城街道"}, SQUARE_E),
        ],
    )
    summary = import_grids(path=path, level=Level.STREET)
    assert summary.created == ["510502001", "510502002"]
    assert Grid.objects.get(code="510502001").parent == district


def test_self_intersecting_ring_is_repaired_with_a_warning(tmp_path, district):
    path = write_geojson(tmp_path / "bowtie.geojson", [({"code": "510502001", "name": "x"}, BOWTIE)])
    summary = import_grids(path=path, level=Level.STREET)
    assert summary.created == ["510502001"]
    assert len(summary.warnings) == 1
    assert "510502001" in summary.warnings[0] and "Self-intersection" in summary.warnings[0]
    grid = Grid.objects.get(code="510502001")
    assert grid.boundary.valid and len(grid.boundary) == 2  # the bow tie becomes two triangles


def test_any_rejection_rolls_back_the_whole_file(tmp_path, district):
    path = write_geojson(
        tmp_path / "mixed.geojson",
        [
            ({"code": "510502001", "name": "ok"}, SQUARE_W),
            ({"code": "510503002", "name": "wrong district"}, SQUARE_E),
            ({"name": "no code"}, SQUARE_E),
        ],
    )
    with pytest.raises(ImportRejected) as err:
        import_grids(path=path, level=Level.STREET)
    reasons = dict(err.value.summary.rejected)
    assert "needs a parent" in reasons["feature 2 (code 510503002)"]
    assert "no code" in reasons["feature 3"]
    assert Grid.objects.count() == 1
    summary = import_grids(path=path, level=Level.STREET, allow_rejects=True)
    assert summary.created == ["510502001"] and len(summary.rejected) == 2


def test_swapped_coordinates_land_outside_china_and_are_rejected(tmp_path, district):
    swapped = [[lat, lon] for lon, lat in SQUARE_W]
    path = write_geojson(tmp_path / "swapped.geojson", [({"code": "510502001", "name": "x"}, swapped)])
    with pytest.raises(ImportRejected) as err:
        import_grids(path=path, level=Level.STREET)
    assert "outside China" in err.value.summary.rejected[0][1]


def test_geojson_crs_member_is_refused(tmp_path):
    path = tmp_path / "crs.geojson"
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "crs": {"type": "link", "properties": {"href": "http://example.com/crs"}},
                "features": [],
            }
        )
    )
    with pytest.raises(SourceError, match="'crs' members are not read"):
        read_source(path)


def write_shapefile(base: Path, rings_and_records, encoding: str, srid: int | None) -> Path:
    with shapefile.Writer(str(base), shapeType=shapefile.POLYGON, encoding=encoding) as writer:
        writer.field("CODE", "C", 20)
        writer.field("NAME", "C", 50)
        for ring, record in rings_and_records:
            writer.poly([ring])
            writer.record(*record)
    if srid:
        base.with_suffix(".prj").write_text(SpatialReference(srid).wkt)
    return base.with_suffix(".shp")


def gk(ring, srid):
    polygon = Polygon(ring, srid=4326)
    polygon.transform(srid)
    return [list(xy) for xy in polygon.exterior_ring.coords]


def test_gbk_shapefile_without_cpg_is_refused_until_encoding_given(tmp_path, district):
    path = write_shapefile(tmp_path / "streets", [(SQUARE_W, ("510502001", "南城街道"))], "gbk", 4490)
    with pytest.raises(CommandError, match="--encoding gbk"):
        call_command("import_grids", str(path), level="street", verbosity=0)
    assert Grid.objects.count() == 1
    call_command("import_grids", str(path), level="street", encoding="gbk", name_field="NAME", verbosity=0)
    assert Grid.objects.get(code="510502001").name == "南城街道"


def test_shapefile_decoded_as_latin1_is_refused_as_mojibake(tmp_path, district):
    path = write_shapefile(tmp_path / "streets", [(SQUARE_W, ("510502001", "南城街道"))], "gbk", 4490)
    with pytest.raises(CommandError, match="wrong encoding"):
        call_command("import_grids", str(path), level="street", encoding="latin-1", verbosity=0)


def test_shapefile_without_prj_needs_srs(tmp_path, district):
    ring = gk(SQUARE_W, 4544)
    path = write_shapefile(tmp_path / "streets", [(ring, ("510502001", "南城街道"))], "utf-8", None)
    with pytest.raises(CommandError, match="pass --srs"):
        call_command("import_grids", str(path), level="street", verbosity=0)
    call_command("import_grids", str(path), level="street", srs="EPSG:4544", verbosity=0)
    assert area_km2("510502001") == pytest.approx(area_km2("510502") / 2, rel=1e-3)


def test_gauss_kruger_prj_is_read_and_zone_prefix_mismatch_refused(tmp_path, district):
    # EPSG:4544 is the 3° zone 35 (105°E) without prefix; EPSG:4523 the same zone with it.
    path = write_shapefile(tmp_path / "cm", [(gk(SQUARE_W, 4544), ("510502001", "南城街道"))], "utf-8", 4544)
    call_command("import_grids", str(path), level="street", verbosity=0)
    assert Grid.objects.filter(code="510502001").exists()
    prefixed = write_shapefile(tmp_path / "prefixed", [(gk(SQUARE_W, 4523), ("510502001", "x"))], "utf-8", None)
    with pytest.raises(CommandError, match="carry a zone number"):
        call_command("import_grids", str(prefixed), level="street", srs="EPSG:4544", verbosity=0)
    call_command("import_grids", str(prefixed), level="street", srs="EPSG:4523", verbosity=0)


def test_geopackage(tmp_path, district):
    source = write_geojson(tmp_path / "streets.geojson", [({"code": "510502001", "name": "南城街道"}, SQUARE_W)])
    target = tmp_path / "streets.gpkg"
    subprocess.run(["ogr2ogr", "-f", "GPKG", "-a_srs", "EPSG:4490", str(target), str(source)], check=True)
    call_command("import_grids", str(target), level="street", verbosity=0)
    assert Grid.objects.get(code="510502001").name == "南城街道"
