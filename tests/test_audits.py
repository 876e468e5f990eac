"""Coverage audits on small hand-made trees: gaps, overlaps, parts outside the parent, orphans, slivers.

The trees are tests.factories.small_tree() (a clean tiling, drawn in its docstring) with one thing
broken per test. Expected areas come from tests/factories_audits.py (shapely in EPSG:4544), not
from PostGIS, so the SQL is checked against an independent computation.
"""

from __future__ import annotations

import datetime

import pytest
from django.contrib.gis.geos import MultiPolygon, Polygon
from django.core.exceptions import ValidationError
from shapely import box as shapely_box

from layers.audits import services
from layers.audits.models import AuditRun, Finding
from layers.grids.models import DutyKind, Level
from tests.factories import box, make_duty, make_grid, make_person, small_tree
from tests.factories_audits import box_area, metric_area

pytestmark = pytest.mark.django_db

GEOMETRY_KINDS = ["gap", "overlap", "outside_parent"]


def audit(**kwargs) -> AuditRun:
    run = services.create_run(via="test", **kwargs)
    return services.execute_run(run.pk)


def redraw(grid, outline) -> None:
    """Give `grid` a new outline (a Polygon or MultiPolygon in EPSG:4326) and save it."""
    grid.boundary = outline if isinstance(outline, MultiPolygon) else MultiPolygon(outline, srid=4326)
    grid.save()


def deactivate(grid) -> None:
    grid.is_active = False
    grid.save()


def findings(run: AuditRun, kind: str):
    return list(Finding.objects.filter(run=run, kind=kind).order_by("grid_code", "other_grid_code"))


def test_a_clean_tiling_yields_no_gap_no_overlap_no_part_outside():
    small_tree()
    run = audit(kinds=GEOMETRY_KINDS)
    assert run.status == AuditRun.Status.DONE and run.progress == 1.0
    assert Finding.objects.filter(run=run).count() == 0
    # Not even slivers: the boxes share exact edges, so the differences are empty.
    for kind in GEOMETRY_KINDS:
        assert run.summary[kind] == {"findings": 0, "slivers": 0, "sliver_m2": 0.0}


def test_an_inactive_child_leaves_one_gap_of_its_area():
    tree = small_tree()
    deactivate(tree["g2"])
    run = audit(kinds=GEOMETRY_KINDS)
    gaps = findings(run, "gap")
    assert [g.grid_code for g in gaps] == ["510502001001"]  # the community g2 belonged to
    # g2 is the box (105.42, 28.90)-(105.45, 28.95): about 2,930 m × 5,540 m ≈ 16.2 km².
    expected = box_area(105.42, 28.90, 105.45, 28.95)
    assert gaps[0].measure == pytest.approx(expected, rel=1e-3)
    assert gaps[0].unit == "m2"
    assert gaps[0].geometry.equals(Polygon.from_bbox((105.42, 28.90, 105.45, 28.95)))
    assert findings(run, "overlap") == [] and findings(run, "outside_parent") == []


def test_a_parent_whose_children_are_all_inactive_is_one_gap_as_big_as_itself():
    tree = small_tree()
    for key in ("m1", "m2"):
        deactivate(tree[key])
    run = audit(kinds=["gap"])
    gaps = findings(run, "gap")
    assert [g.grid_code for g in gaps] == ["510502001001001"]
    assert gaps[0].measure == pytest.approx(box_area(105.40, 28.90, 105.42, 28.95), rel=1e-3)


def test_an_overlapping_redraw_is_found_with_its_overlap_area():
    tree = small_tree()
    # Grid 002 redrawn 0.005° west, over its sibling 001: the overlap is (105.415, 28.90)-(105.42, 28.95).
    redraw(tree["g2"], box(105.415, 28.90, 105.45, 28.95))
    run = audit(kinds=GEOMETRY_KINDS)
    overlaps = findings(run, "overlap")
    assert [(o.grid_code, o.other_grid_code) for o in overlaps] == [("510502001001001", "510502001001002")]
    # Computed independently: the intersection of the two boxes in shapely, area in EPSG:4544 (~268,000 m²).
    expected = metric_area(
        shapely_box(105.40, 28.90, 105.42, 28.95).intersection(shapely_box(105.415, 28.90, 105.45, 28.95))
    )
    assert overlaps[0].measure == pytest.approx(expected, rel=1e-3)
    assert findings(run, "gap") == [] and findings(run, "outside_parent") == []


def test_a_child_sticking_out_of_its_parent_is_found_with_the_part_outside():
    tree = small_tree()
    # Micro-grid 001 redrawn 0.005° east, past its grid's edge at 105.42.
    redraw(tree["m1"], box(105.40, 28.92, 105.425, 28.95))
    run = audit(kinds=GEOMETRY_KINDS)
    outside = findings(run, "outside_parent")
    assert [(o.grid_code, o.other_grid_code) for o in outside] == [("510502001001001001", "510502001001001")]
    assert outside[0].measure == pytest.approx(box_area(105.42, 28.92, 105.425, 28.95), rel=1e-3)
    assert findings(run, "gap") == [] and findings(run, "overlap") == []


def test_grids_without_a_leader_or_an_officer_are_orphans():
    tree = small_tree()
    leader, officer = make_person("李主任"), make_person("王网格员")
    make_duty(tree["c1"], DutyKind.LEADER, leader)
    make_duty(tree["g1"], DutyKind.OFFICER, officer)
    # g2's officer left in 2021: an ended duty does not count.
    make_duty(
        tree["g2"], DutyKind.OFFICER, officer, starts_on=datetime.date(2020, 1, 1), ends_on=datetime.date(2021, 1, 1)
    )
    run = audit(kinds=["orphan"])
    # Leaders are expected on communities, officers on unit grids (settings.GRIDGIS AUDIT_DUTY_LEVELS).
    # c2 has no leader; g2 has no officer in force; g1 has one; micro-grids are not checked.
    orphans = {o.grid_code: o.detail["missing"] for o in findings(run, "orphan")}
    assert orphans == {"510502001002": ["leader"], "510502001001002": ["officer"]}
    assert {o.measure for o in findings(run, "orphan")} == {1.0}
    # On a date when g2's officer was still in post, g2 is covered.
    then = audit(kinds=["orphan"], parameters={"on": "2020-06-01"})
    assert {o.grid_code for o in findings(then, "orphan")} == {"510502001002"}


def test_a_duty_higher_up_does_not_stand_in_for_the_expected_one():
    tree = small_tree()
    # The street's leader answers for the street; each community still needs its own.
    make_duty(tree["s1"], DutyKind.LEADER, make_person())
    make_duty(tree["c1"], DutyKind.OFFICER, make_person())
    run = audit(kinds=["orphan"])
    orphans = {o.grid_code: o.detail["missing"] for o in findings(run, "orphan")}
    assert orphans == {
        "510502001001": ["leader"],
        "510502001002": ["leader"],
        "510502001001001": ["officer"],
        "510502001001002": ["officer"],
    }


def test_duty_levels_are_parameters_of_the_run():
    tree = small_tree()
    make_duty(tree["c1"], DutyKind.LEADER, make_person())
    make_duty(tree["c2"], DutyKind.LEADER, make_person())
    make_duty(tree["m2"], DutyKind.OFFICER, make_person())
    run = audit(kinds=["orphan"], parameters={"officer_level": "micro-grid"})
    # Officers now expected on micro-grids (and no longer on grids): m2 has one, m1 none.
    orphans = {o.grid_code: o.detail["missing"] for o in findings(run, "orphan")}
    assert orphans == {"510502001001001001": ["officer"]}
    # A grid expected to hold both duties and holding neither counts 2.
    both = audit(kinds=["orphan"], parameters={"leader_level": "grid", "officer_level": "grid"})
    assert {(o.grid_code, o.measure) for o in findings(both, "orphan")} == {
        ("510502001001001", 2.0),
        ("510502001001002", 2.0),
    }


def test_a_district_run_only_looks_at_that_district():
    tree = small_tree()
    deactivate(tree["g2"])
    other = make_grid("510503", Level.DISTRICT, (105.50, 28.85, 105.60, 28.95), name="纳溪区")
    make_grid("510503001", Level.STREET, (105.50, 28.85, 105.55, 28.95), other)  # the east half is a gap
    run = audit(district_code="510502", kinds=["gap"])
    assert [g.grid_code for g in findings(run, "gap")] == ["510502001001"]
    whole = audit(kinds=["gap"])
    assert [g.grid_code for g in findings(whole, "gap")] == ["510502001001", "510503"]
    assert sorted(whole.done) == ["gap:510502", "gap:510503"]


def test_rerunning_a_run_recomputes_without_duplicates():
    tree = small_tree()
    deactivate(tree["g2"])
    run = audit(kinds=GEOMETRY_KINDS)
    again = services.execute_run(run.pk)
    assert again.status == AuditRun.Status.DONE
    assert Finding.objects.filter(run=run).count() == 1
    assert again.summary["gap"]["findings"] == 1


def test_an_interrupted_run_resumes_where_it_stopped():
    tree = small_tree()
    deactivate(tree["g2"])
    make_duty(tree["c1"], DutyKind.LEADER, make_person())
    run = services.create_run(kinds=["gap", "orphan"], via="test")

    def crash_after_first_chunk(run, kind, district):
        raise RuntimeError("power cut")

    with pytest.raises(RuntimeError):
        services.execute_run(run.pk, progress=crash_after_first_chunk)
    run.refresh_from_db()
    assert run.status == AuditRun.Status.FAILED and "power cut" in run.error
    assert run.done == ["gap:510502"] and run.progress == 0.5
    assert Finding.objects.filter(run=run, kind="gap").count() == 1

    resumed = services.execute_run(run.pk)
    assert resumed.status == AuditRun.Status.DONE and resumed.done == ["gap:510502", "orphan:510502"]
    assert Finding.objects.filter(run=run, kind="gap").count() == 1  # the done chunk was not redone
    # c2 lacks a leader, g1 an officer; the inactive g2 is not audited.
    assert {f.grid_code for f in Finding.objects.filter(run=run, kind="orphan")} == {"510502001002", "510502001001001"}


def test_bad_run_requests_name_the_field():
    small_tree()
    with pytest.raises(ValidationError) as bad_kind:
        services.create_run(kinds=["gap", "nonsense"])
    assert "kinds" in bad_kind.value.message_dict
    with pytest.raises(ValidationError) as bad_district:
        services.create_run(district_code="999999")
    assert "district" in bad_district.value.message_dict
    with pytest.raises(ValidationError) as bad_level:
        services.create_run(parameters={"leader_level": "planet"})
    assert "leader_level" in bad_level.value.message_dict
    assert AuditRun.objects.count() == 0


SLIVER = 0.00005  # degrees: a square of about 4.9 m × 5.5 m ≈ 27 m², under the default 50 m²


@pytest.mark.parametrize(
    "kind, key, outline, sliver",
    [
        # Micro-grid 002 loses a square at its south-east corner: a sliver of the gap count.
        (
            "gap",
            "m2",
            box(105.40, 28.90, 105.42, 28.92).difference(box(105.42 - SLIVER, 28.90, 105.42, 28.90 + SLIVER)),
            (105.42 - SLIVER, 28.90, 105.42, 28.90 + SLIVER),
        ),
        # Grid 002 grows a square tab into grid 001 at its south-west corner: a sliver of the overlaps.
        (
            "overlap",
            "g2",
            box(105.42, 28.90, 105.45, 28.95).union(box(105.42 - SLIVER, 28.90, 105.42, 28.90 + SLIVER)),
            (105.42 - SLIVER, 28.90, 105.42, 28.90 + SLIVER),
        ),
    ],
)
def test_parts_under_the_minimum_area_are_counted_as_slivers_not_listed(kind, key, outline, sliver):
    tree = small_tree()
    redraw(tree[key], outline)
    run = audit(kinds=[kind])
    assert findings(run, kind) == []
    assert run.summary[kind]["slivers"] == 1
    assert run.summary[kind]["sliver_m2"] == pytest.approx(box_area(*sliver), rel=1e-2)


def test_a_lower_minimum_area_lists_the_sliver():
    tree = small_tree()
    notch = box(105.42 - SLIVER, 28.90, 105.42, 28.90 + SLIVER)
    redraw(tree["m2"], box(105.40, 28.90, 105.42, 28.92).difference(notch))
    listed = audit(kinds=["gap"], parameters={"min_area_m2": 10})
    assert [g.grid_code for g in findings(listed, "gap")] == ["510502001001001"]
