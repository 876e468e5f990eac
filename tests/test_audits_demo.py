"""The audit on the seeded Luzhou demo finds exactly the defects fixtures/demo/grids.py plants.

The demo loads three of Luzhou's seven districts from the real boundary files, so the city itself has
gaps (the four districts not loaded, and the small slivers-but-not-quite where the real district
files do not meet exactly); below the districts the generated tree tiles exactly, except for the
planted gap, overlap and orphan.
"""

from __future__ import annotations

import pytest
import shapely
from django.contrib.gis.geos import Point
from django.db import connection

from common.dbfuncs import AreaM2
from fixtures.demo.grids import PLANTED_GAP_CODE, PLANTED_ORPHAN_CODE, PLANTED_OVERLAP_CODE, planted_overlap_partner
from layers.audits import services
from layers.audits.models import AuditRun, Finding
from layers.grids.models import Grid, Level
from layers.incidents.models import Case
from tests.factories_audits import metric_area

GRID_KINDS = ["gap", "overlap", "outside_parent", "orphan"]


def test_the_demo_audit_finds_exactly_the_planted_defects(demo_db):
    run = services.execute_run(services.create_run(kinds=GRID_KINDS, via="test").pk)
    assert run.status == AuditRun.Status.DONE
    below_city = Finding.objects.filter(run=run).exclude(grid__level=Level.CITY)
    found = {(f.kind, f.grid_code, f.other_grid_code) for f in below_city}
    partner = planted_overlap_partner()
    pair = tuple(sorted([PLANTED_OVERLAP_CODE, partner]))
    assert found == {
        ("gap", PLANTED_GAP_CODE[:12], ""),  # the inactive grid's hole, reported on its community
        ("overlap", pair[0], pair[1]),
        ("orphan", PLANTED_ORPHAN_CODE, ""),
    }

    # The gap is the removed grid, area equal within 0.1% (AreaM2: the grid's own area in m²).
    gap = below_city.get(kind="gap")
    removed = Grid.objects.filter(code=PLANTED_GAP_CODE).annotate(m2=AreaM2("boundary")).get()
    assert gap.measure == pytest.approx(removed.m2, rel=1e-3)

    # The overlap's area, computed independently: the two stored boundaries intersected by shapely in
    # EPSG:4544 (the seed grew one grid by a 30 m strip of the other, so tens of thousands of m²).
    a, b = (shapely.from_wkb(bytes(Grid.objects.get(code=code).boundary.wkb)) for code in pair)
    expected = metric_area(shapely.intersection(a, b))
    overlap = below_city.get(kind="overlap")
    assert expected > 10_000
    assert overlap.measure == pytest.approx(expected, rel=1e-3)

    orphan = below_city.get(kind="orphan")
    assert orphan.detail == {"missing": ["leader"]}


def test_the_city_level_gaps_are_the_districts_the_demo_does_not_load(demo_db):
    run = services.execute_run(services.create_run(kinds=["gap"], via="test").pk)
    city_gaps = Finding.objects.filter(run=run, grid__level=Level.CITY)
    # Luzhou minus Jiangyang, Naxi and Longmatan: the other four districts, about 10,000 km².
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ST_Area(ST_Segmentize(c.boundary, 0.0001)::geography)"
            " - sum(ST_Area(ST_Segmentize(d.boundary, 0.0001)::geography))"
            " FROM grids_grid c JOIN grids_grid d ON d.parent_id = c.id WHERE c.level = 0 GROUP BY c.id"
        )
        uncovered = cursor.fetchone()[0]
    total = sum(f.measure for f in city_gaps)
    # Listed parts plus slivers make up the city not covered by its districts (the districts' own
    # overlaps, if any, would make `uncovered` smaller than the gaps, hence the tolerance).
    assert total + run.summary["gap"]["sliver_m2"] == pytest.approx(uncovered, rel=1e-3)
    assert total > 5e9


def test_the_demo_dead_corner_case_is_the_one_reported_outside_luzhou(demo_db):
    # fixtures/demo/incidents.py reports one case at 105.05°E 28.86°N, west of the city's boundary.
    outside = Case.objects.get(location__equals=Point(105.05, 28.86, srid=4326))
    run = services.execute_run(services.create_run(kinds=["dead_corner_case"], via="test").pk)
    found = list(Finding.objects.filter(run=run))
    assert [(f.case_id, f.district_code) for f in found] == [(outside.pk, outside.district_code)]
    assert found[0].unit == "days" and found[0].measure >= 0
    assert found[0].geometry.equals(outside.location)


def test_a_district_run_on_the_demo_reports_only_that_district(demo_db):
    run = services.execute_run(services.create_run(district_code=PLANTED_GAP_CODE[:6], kinds=GRID_KINDS, via="test").pk)
    assert {(f.kind, f.grid_code) for f in Finding.objects.filter(run=run)} == {("gap", PLANTED_GAP_CODE[:12])}
