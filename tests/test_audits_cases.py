"""Audit kinds over cases (hotspot, dead-corner case) on hand-made cases in small_tree()."""

from __future__ import annotations

import datetime

import pytest
from pyproj import Geod

from layers.audits import services
from layers.audits.models import Finding
from tests.factories import small_tree
from tests.factories_audits import make_case
from tests.factories_incidents import make_category

pytestmark = pytest.mark.django_db

ON = "2026-09-12"  # runs look from the end of this day (Asia/Shanghai)
DAY = datetime.datetime(2026, 9, 12, 10, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))


def audit(kinds, **parameters):
    run = services.create_run(kinds=kinds, parameters={"on": ON, **parameters}, via="test")
    return services.execute_run(run.pk)


def row_of_cases(category, lon, lat, n, *, step=0.0001, days_ago=1, grid=None, **fields):
    """n cases on a west-east line, `step` degrees of longitude apart."""
    return [
        make_case(category, lon + i * step, lat, DAY - datetime.timedelta(days=days_ago), grid=grid, **fields)
        for i in range(n)
    ]


def test_hotspots_are_clusters_of_one_category_within_r_metres_over_d_days():
    tree = small_tree()
    rubbish, stalls = make_category("0101"), make_category("0201")
    # 1e-4° of longitude at 28.93°N is 9.75 m (pyproj's geodesic on WGS84, checked below), so five cases
    # 1e-4° apart span 39 m: with R = 50 m every case has the other four within reach.
    geod = Geod(ellps="WGS84")
    assert geod.inv(105.41, 28.93, 105.4101, 28.93)[2] == pytest.approx(9.75, abs=0.01)
    hot = row_of_cases(rubbish, 105.41, 28.93, 5, grid=tree["m1"])
    row_of_cases(stalls, 105.41, 28.93, 4, grid=tree["m1"])  # 4 stalls: under K = 5
    row_of_cases(rubbish, 105.43, 28.91, 5, days_ago=40)  # a rubbish cluster, but 40 days old
    make_case(rubbish, 105.4102, 28.93, DAY, duplicate_of=hot[0], status="duplicate")  # a "me too"

    run = audit(["hotspot"], hotspot_cases=5, hotspot_metres=50, hotspot_days=30)
    [spot] = Finding.objects.filter(run=run, kind="hotspot")
    assert spot.measure == 5 and spot.unit == "count"
    assert spot.grid_code == "510502001001001001"
    assert spot.detail["category"] == "0101" and sorted(spot.detail["case_ids"]) == sorted(c.pk for c in hot)
    # Five collinear points: the convex hull is the 39 m segment.
    assert spot.geometry.geom_type == "LineString"

    # R below the 9.75 m spacing: no case has a neighbour, no hotspot.
    assert not Finding.objects.filter(run=audit(["hotspot"], hotspot_metres=9), kind="hotspot").exists()
    # D = 60 days: the old cluster counts too.
    assert Finding.objects.filter(run=audit(["hotspot"], hotspot_days=60), kind="hotspot").count() == 2
    # K = 4: the four stalls make a hotspot of their own category.
    four = audit(["hotspot"], hotspot_cases=4)
    assert sorted(f.detail["category"] for f in Finding.objects.filter(run=four, kind="hotspot")) == ["0101", "0201"]


def test_open_cases_no_grid_covers_are_dead_corner_cases():
    tree = small_tree()
    tree["g2"].is_active = False  # grid 002's ground is now covered by no active grid below the community...
    tree["g2"].save()
    tree["c1"].is_active = False  # ... and neither by its community: only the street covers it
    tree["c1"].save()
    tree["s1"].is_active = False
    tree["s1"].save()
    tree["district"].is_active = False
    tree["district"].save()
    rubbish = make_category("0101")
    reported = datetime.datetime(2026, 9, 10, 0, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))
    lost = make_case(rubbish, 105.43, 28.93, reported)  # in g2's ground
    make_case(rubbish, 105.43, 28.93, reported, status="closed")  # closed: nobody needs to act any more
    make_case(rubbish, 105.41, 28.93, reported)  # in g1, which is active
    outside = make_case(rubbish, 105.05, 28.86, reported, district_code="")  # west of every grid

    run = audit(["dead_corner_case"])
    found = {f.case_id: f for f in Finding.objects.filter(run=run, kind="dead_corner_case")}
    assert set(found) == {lost.pk, outside.pk}
    # Reported at 00:00 on 10 September, the run looks from the end of 12 September: 3 days waiting.
    assert found[lost.pk].measure == 3.0 and found[lost.pk].unit == "days"
    assert found[outside.pk].district_code == ""
    assert sorted(run.done) == ["dead_corner_case:", "dead_corner_case:510502"]
