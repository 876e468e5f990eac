"""The map API: grids by bbox as GeoJSON built in SQL, grid extents, vector tiles, case counts."""

import datetime
import json
from io import StringIO

import mapbox_vector_tile
import pytest
from django.contrib.gis.geos import Point
from django.core.management import call_command
from django.db import connection

from layers.grids.models import DutyKind
from layers.incidents.services import report_case
from maps import tiles
from maps.models import GridCaseCount
from tests.factories import make_department, make_duty, make_person, small_tree
from tests.factories_incidents import make_category, make_user
from tests.factories_maps import make_case_table, tile_of

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def supervisor(client):
    """Issue 7: the map layers are staff's; a supervisor sees every grid and case (scoping per role is
    tested in test_roles.py)."""
    client.force_login(make_user("supervisor"))


WHOLE_DISTRICT = "105.39,28.84,105.51,28.96"


def features(response):
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/geo+json"
    return json.loads(response.content)


def test_grids_in_bbox_by_level(client):
    small_tree()
    body = features(client.get("/api/v1/map/grids/", {"bbox": WHOLE_DISTRICT, "level": "grid"}))

    # small_tree has two unit grids, both inside the district's box; ordered by code.
    assert [f["id"] for f in body["features"]] == ["510502001001001", "510502001001002"]
    assert body["numberReturned"] == 2 and body["truncated"] is False
    first = body["features"][0]
    assert first["properties"] == {"code": "510502001001001", "name": "第一网格", "level": 4}
    assert first["geometry"]["type"] == "MultiPolygon"
    # The box (105.40, 28.90)-(105.42, 28.95) comes back as its 5-point ring.
    ring = first["geometry"]["coordinates"][0][0]
    assert len(ring) == 5 and min(p[0] for p in ring) == 105.4 and max(p[1] for p in ring) == 28.95


def test_grid_detail_names_who_answers_walking_up_the_tree(client):
    tree = small_tree()
    make_duty(tree["g1"], DutyKind.OFFICER, make_person("王网格"))
    make_duty(tree["c1"], DutyKind.LEADER, make_person("李领导", title="社区书记"))
    # An officer whose duty ended yesterday is no longer named.
    make_duty(
        tree["g1"],
        DutyKind.OFFICER,
        make_person("张离任"),
        starts_on=datetime.date(2020, 1, 1),
        ends_on=datetime.date.today() - datetime.timedelta(days=1),
    )

    response = client.get("/api/v1/map/grids/510502001001001001/")
    assert response.status_code == 200
    body = response.json()
    assert [g["code"] for g in body["chain"]] == [
        "510502",
        "510502001",
        "510502001001",
        "510502001001001",
        "510502001001001001",
    ]
    # The micro-grid has no duties of its own: the officer comes from its grid, the leader from its
    # community (the nearest level up that has one); no phone numbers in a popup.
    assert body["officers"] == [{"name": "王网格", "title": "", "grid_code": "510502001001001"}]
    assert body["leaders"] == [{"name": "李领导", "title": "社区书记", "grid_code": "510502001001"}]
    assert client.get("/api/v1/map/grids/510502999/").status_code == 404


def test_bbox_selects_only_intersecting_grids_and_levels_combine(client):
    small_tree()
    # A box inside micro-grid ...001 (105.40-105.42, 28.92-28.95) only.
    body = features(client.get("/api/v1/map/grids/", {"bbox": "105.405,28.93,105.41,28.94", "level": "grid,microgrid"}))
    assert [f["id"] for f in body["features"]] == ["510502001001001", "510502001001001001"]


def test_prefix_and_limit(client):
    small_tree()
    streets = features(client.get("/api/v1/map/grids/", {"bbox": WHOLE_DISTRICT, "level": "street"}))
    assert [f["id"] for f in streets["features"]] == ["510502001", "510502002"]
    only_002 = features(
        client.get("/api/v1/map/grids/", {"bbox": WHOLE_DISTRICT, "level": "street", "prefix": "510502002"})
    )
    assert [f["id"] for f in only_002["features"]] == ["510502002"]
    cut = features(client.get("/api/v1/map/grids/", {"bbox": WHOLE_DISTRICT, "level": "street", "limit": 1}))
    assert cut["numberReturned"] == 1 and cut["truncated"] is True


def test_empty_answer_is_a_valid_collection(client):
    small_tree()
    body = features(client.get("/api/v1/map/grids/", {"bbox": "0,0,1,1"}))
    assert body == {"type": "FeatureCollection", "numberReturned": 0, "truncated": False, "features": []}


@pytest.mark.parametrize(
    "params, field",
    [
        ({}, "bbox"),
        ({"bbox": "1,2,3"}, "bbox"),
        ({"bbox": "a,b,c,d"}, "bbox"),
        ({"bbox": "3,2,1,4"}, "bbox"),
        ({"bbox": "0,0,200,1"}, "bbox"),
        ({"bbox": "0,0,1,nan"}, "bbox"),
        ({"bbox": "0,0,1,1", "level": "county-ish"}, "level"),
        ({"bbox": "0,0,1,1", "prefix": "51'--"}, "prefix"),
        ({"bbox": "0,0,1,1", "limit": "0"}, "limit"),
        ({"bbox": "0,0,1,1", "limit": "999999"}, "limit"),
    ],
)
def test_bad_queries_are_400_naming_the_field(client, params, field):
    response = client.get("/api/v1/map/grids/", params)
    assert response.status_code == 400
    assert response.json()["detail"].startswith(f"{field}: ")


def test_grid_extent_by_code(client):
    small_tree()
    response = client.get("/api/v1/map/grids/510502001001001001/extent/")
    assert response.status_code == 200
    assert response.json() == {"code": "510502001001001001", "bbox": [105.40, 28.92, 105.42, 28.95]}
    assert client.get("/api/v1/map/grids/510502999/extent/").status_code == 404


def test_grid_tile_picks_level_by_zoom(client):
    small_tree()
    z, x, y = tile_of(105.45, 28.90, 11)
    response = client.get(f"/tiles/grids/{z}/{x}/{y}.pbf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.mapbox-vector-tile"
    layer = mapbox_vector_tile.decode(response.content)["grids"]
    # Zoom 11 draws streets; both streets of small_tree meet at (105.45, 28.90), inside this tile.
    assert sorted(f["properties"]["code"] for f in layer["features"]) == ["510502001", "510502002"]
    assert {f["properties"]["level"] for f in layer["features"]} == {2}

    forced = client.get(f"/tiles/grids/{z}/{x}/{y}.pbf", {"level": "microgrid"})
    layer = mapbox_vector_tile.decode(forced.content)["grids"]
    assert len(layer["features"]) == 2


def test_tiles_out_of_the_pyramid_are_404(client):
    assert client.get("/tiles/grids/3/8/0.pbf").status_code == 404
    assert client.get("/tiles/grids/23/0/0.pbf").status_code == 404
    assert client.get("/tiles/grids/2/1/1.pbf", {"level": "nope"}).status_code == 400


def _cases_in_small_tree(tree):
    """300 cases spread over micro-grid m1, 100 in m2 (of which 40 closed), 2 outside every grid."""
    points = []
    for i in range(300):
        points.append((105.401 + (i % 20) * 0.0009, 28.921 + (i // 20) * 0.0018, tree["m1"].id, "handling"))
    for i in range(100):
        points.append(
            (
                105.401 + (i % 10) * 0.0018,
                28.901 + (i // 10) * 0.0018,
                tree["m2"].id,
                "closed" if i < 40 else "reported",
            )
        )
    points += [(105.6, 28.7, None, "reported"), (105.61, 28.71, None, "reported")]
    return make_case_table(points)


def test_case_counts_roll_up_the_tree(client):
    tree = small_tree()
    source = _cases_in_small_tree(tree)
    written = tiles.refresh_case_counts(source=source)
    counts = {c.grid.code: (c.total, c.open) for c in GridCaseCount.objects.select_related("grid")}
    # m1 300 open; m2 100 of which 60 open; g1, c1, s1 and the district hold both; the two cases
    # outside every grid have no grid and are counted nowhere.
    assert counts == {
        "510502001001001001": (300, 300),
        "510502001001001002": (100, 60),
        "510502001001001": (400, 360),
        "510502001001": (400, 360),
        "510502001": (400, 360),
        "510502": (400, 360),
    }
    assert written == 6
    # Refreshing again replaces the rows rather than adding to them.
    assert tiles.refresh_case_counts(source=source) == 6 and GridCaseCount.objects.count() == 6


def test_case_tiles_aggregate_at_low_zoom_and_merge_points_when_close(client, monkeypatch):
    tree = small_tree()
    source = _cases_in_small_tree(tree)
    tiles.refresh_case_counts(source=source)
    monkeypatch.setattr(tiles, "case_source", lambda: source)

    anchor = GridCaseCount.objects.get(grid=tree["s1"]).anchor
    z, x, y = tile_of(anchor.x, anchor.y, 12)
    low = mapbox_vector_tile.decode(client.get(f"/tiles/incidents/{z}/{x}/{y}.pbf").content)
    # Zoom 12 shows one point per street, at its anchor: only street 510502001 has cases (400, 360 open).
    assert [f["properties"] for f in low["case_counts"]["features"]] == [
        {"code": "510502001", "name": "南城街道", "total": 400, "open": 360}
    ]
    assert "cases" not in low

    # Zoom 15 shows micro-grids' counts: the tile around m1's anchor holds m1 (300 cases, all open).
    m1_anchor = GridCaseCount.objects.get(grid=tree["m1"]).anchor
    z, x, y = tile_of(m1_anchor.x, m1_anchor.y, 15)
    at_15 = mapbox_vector_tile.decode(client.get(f"/tiles/incidents/{z}/{x}/{y}.pbf").content)["case_counts"]
    by_code = {f["properties"]["code"]: f["properties"]["total"] for f in at_15["features"]}
    assert by_code["510502001001001001"] == 300 and set(by_code) <= {"510502001001001001", "510502001001001002"}

    z, x, y = tile_of(105.41, 28.93, 16)
    high = mapbox_vector_tile.decode(client.get(f"/tiles/incidents/{z}/{x}/{y}.pbf").content)["cases"]
    # Every case of the tile is in exactly one feature: the counts add up to the cases in the tile.
    with connection.cursor() as cursor:
        # The tile carries the cases within its envelope widened by 1/64 (its 64-unit buffer).
        cursor.execute(
            "SELECT count(*) FROM test_map_cases "
            "WHERE location && ST_Transform(ST_TileEnvelope(%s, %s, %s, margin => 0.015625), 4326)",
            [z, x, y],
        )
        in_tile = cursor.fetchone()[0]
    assert in_tile > 0
    assert sum(f["properties"]["count"] for f in high["features"]) == in_tile
    assert all(f["geometry"]["type"] == "Point" for f in high["features"])


def test_case_counts_endpoint_feeds_the_heatmap(client):
    tree = small_tree()
    tiles.refresh_case_counts(source=_cases_in_small_tree(tree))
    body = features(client.get("/api/v1/map/case-counts/", {"bbox": WHOLE_DISTRICT, "level": "microgrid"}))
    assert [(f["id"], f["properties"]["total"]) for f in body["features"]] == [
        ("510502001001001001", 300),
        ("510502001001001002", 100),
    ]
    # The anchor is ST_PointOnSurface of the micro-grid: inside its box.
    lon, lat = body["features"][0]["geometry"]["coordinates"]
    assert 105.40 < lon < 105.42 and 28.92 < lat < 28.95


def test_refresh_case_counts_command():
    tree = small_tree()
    category = make_category("0101", default_department=make_department("JY-CG", district=tree["district"]))
    for lon, lat in ((105.41, 28.93), (105.41, 28.94), (105.43, 28.93)):
        report_case(category=category, point=Point(lon, lat, srid=4326), input_point={}, input_srs="EPSG:4326")
    out = StringIO()
    call_command("refresh_case_counts", stdout=out)
    # Two cases in micro-grid m1, one in g2 (no micro-grids): m1, g1, g2, c1, s1 and the district.
    assert "6 grids counted" in out.getvalue()
    assert GridCaseCount.objects.get(grid=tree["district"]).total == 3
    assert GridCaseCount.objects.get(grid=tree["m1"]).total == 2
