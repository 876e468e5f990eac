"""Patrol coverage per grid: the share of its area within 30 m of a recent track, on hand-made tracks.

Micro-grid m2 of small_tree() is the box 105.40-105.42°E × 28.90-28.92°N. On the WGS84 spheroid it
is 1950.65 m wide along 28.90°N, 1950.28 m along 28.92°N and 2216.69 m tall: 4,323,565 m² (geodesic
polygon area, e.g. pyproj.Geod(ellps="WGS84").polygon_area_perimeter). A track that crosses it from
edge to edge leaves a 60 m wide strip (30 m each side); the round caps at the track's ends lie
outside the grid because every track below runs past the grid's edges.
"""

import datetime

import pytest
from django.contrib.gis.geos import LineString, MultiLineString
from django.utils import timezone

from layers.grids.models import Level
from layers.inspections.selectors import patrol_coverage
from tests.factories import make_person, small_tree
from tests.factories_estates import make_patrol, make_user

pytestmark = pytest.mark.django_db

M2_AREA = 4_323_565
M2_HEIGHT = 2216.69
M2_WIDTH_AT_28_91 = 1950.46


def line(*coords):
    return MultiLineString(LineString(*coords), srid=4326)


@pytest.fixture
def tree():
    grids = small_tree()
    grids["officer"] = make_person("李网格员")
    grids["other"] = make_person("赵网格员")
    return grids


def m2_share(days=7):
    rows = patrol_coverage(code_prefix="510502001001001", level=Level.MICROGRID, days=days)
    return {row["code"]: row for row in rows}["510502001001001002"]


def recent(hours_ago=5):
    return timezone.now() - datetime.timedelta(hours=hours_ago)


def test_no_tracks_no_coverage(tree):
    row = m2_share()
    assert row["covered_m2"] == 0
    assert row["share"] == 0
    assert row["area_m2"] == pytest.approx(M2_AREA, rel=1e-4)


def test_one_meridian_track_covers_a_60_m_strip(tree):
    # Along 105.41°E from 28.89 to 28.93: a 60 m × 2216.69 m strip = 133,001 m², share 3.076 %.
    make_patrol(tree["officer"], tree["g1"], recent(), track=line((105.41, 28.89), (105.41, 28.93)))
    row = m2_share()
    assert row["covered_m2"] == pytest.approx(60 * M2_HEIGHT, rel=5e-3)
    assert row["share"] == pytest.approx(60 * M2_HEIGHT / M2_AREA, rel=5e-3)
    assert row["patrols"] == 1


def test_overlapping_tracks_count_once_and_a_crossing_adds_its_strip(tree):
    make_patrol(tree["officer"], tree["g1"], recent(), track=line((105.41, 28.89), (105.41, 28.93)))
    # The same lane walked by another officer adds nothing: the buffers are unioned first.
    make_patrol(tree["other"], tree["g1"], recent(3), track=line((105.41, 28.885), (105.41, 28.935)))
    assert m2_share()["covered_m2"] == pytest.approx(60 * M2_HEIGHT, rel=5e-3)
    # An east-west walk along 28.91°N adds 60 m × 1950.46 m less the 60 m × 60 m square where the
    # two strips cross: 133,001 + 117,028 − 3,600 = 246,429 m², share 5.700 %.
    make_patrol(tree["other"], tree["g1"], recent(2), track=line((105.39, 28.91), (105.43, 28.91)))
    expected = 60 * M2_HEIGHT + 60 * M2_WIDTH_AT_28_91 - 60 * 60
    row = m2_share()
    assert row["covered_m2"] == pytest.approx(expected, rel=5e-3)
    assert row["share"] == pytest.approx(expected / M2_AREA, rel=5e-3)


def test_a_track_just_outside_covers_the_edge_strip_it_reaches(tree):
    # 105.4201°E is 9.75 m east of m2's east edge (0.0001° of longitude at 28.91°N): the 30 m buffer
    # reaches 20.25 m into m2 along its whole height: 20.25 × 2216.69 = 44,888 m², share 1.038 %.
    make_patrol(tree["officer"], tree["g1"], recent(), track=line((105.4201, 28.89), (105.4201, 28.93)))
    assert m2_share()["covered_m2"] == pytest.approx(20.25 * M2_HEIGHT, rel=1e-2)
    # 105.42032°E is 31.2 m east of the edge: that buffer no longer reaches m2.
    make_patrol(tree["other"], tree["g1"], recent(), track=line((105.42032, 28.89), (105.42032, 28.93)))
    assert m2_share()["covered_m2"] == pytest.approx(20.25 * M2_HEIGHT, rel=1e-2)


def test_only_the_last_n_days_count(tree):
    make_patrol(
        tree["officer"],
        tree["g1"],
        timezone.now() - datetime.timedelta(days=10),
        track=line((105.41, 28.89), (105.41, 28.93)),
    )
    assert m2_share(days=7)["covered_m2"] == 0
    assert m2_share(days=14)["share"] == pytest.approx(60 * M2_HEIGHT / M2_AREA, rel=5e-3)


def test_coverage_api(api, tree):
    api.force_authenticate(make_user("inspection-office", "supervisor"))  # issue 7: a sign-in
    make_patrol(tree["officer"], tree["g1"], recent(), track=line((105.41, 28.89), (105.41, 28.93)))
    rows = api.get("/api/v1/patrol-coverage/", {"grid": "510502001", "level": "grid", "days": 3}).json()
    assert [r["code"] for r in rows] == ["510502001001001", "510502001001002"]
    # Grid g1 is 105.40-105.42 × 28.90-28.95: the track crosses only its south 0.03° (28.90-28.93)
    # and ends inside it, so the strip is 60 m × 3325.0 m plus the 30 m half-disc cap at 28.93.
    g1 = rows[0]
    assert g1["covered_m2"] == pytest.approx(60 * 3325.03 + 3.14159 * 30**2 / 2, rel=5e-3)
    assert rows[1]["covered_m2"] == 0
    bad = api.get("/api/v1/patrol-coverage/", {"grid": "999", "level": "hamlet", "days": 0})
    assert bad.status_code == 400
    assert set(bad.json()["errors"]) == {"grid", "level", "days"}
