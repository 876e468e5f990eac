"""manage.py reassign: after a redraw, cases follow the smallest covering grid; only affected ones are examined."""

import io

import pytest
from django.core.management import call_command
from django.db.models import F

from layers.grids.models import Grid
from layers.incidents.models import Case, TrailEntry
from layers.incidents.reassign import changed_grid_ids, reassign
from tests.factories import box, small_tree
from tests.factories_incidents import case_foreign_keys, case_indexes, make_category, report_at

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    grids = small_tree()
    category = make_category("0101")
    points = {
        "in_m1": (105.41, 28.93),  # micro-grid m1
        "in_m2": (105.41, 28.91),  # micro-grid m2
        "in_g2": (105.43, 28.93),  # grid g2 (no micro-grids)
        "in_c2": (105.41, 28.87),  # community c2 (no grids)
        "outside": (105.52, 28.90),  # no grid at all
    }
    cases = {}
    for name, (lon, lat) in points.items():
        cases[name] = report_at(category, lon, lat, description=name)
    grids["cases"] = cases
    return grids


def grid_of(case):
    case.refresh_from_db()
    return case.grid.code if case.grid else None


def redraw(grid, bbox):
    Grid.objects.filter(pk=grid.pk).update(boundary=box(*bbox), version=F("version") + 1)


def test_first_run_examines_everything_and_changes_nothing(world):
    report = reassign()
    assert report.mode == "full" and report.examined == 5 and report.moved == 0
    assert reassign().mode == "affected"  # stamps now exist
    assert changed_grid_ids() == []


def test_redraw_moves_only_affected_cases_with_trail(world):
    reassign()
    cases = world["cases"]
    # Micro-grid m1 grows south to 28.90, over m2's area: the case in m2 now lies in both; the rule
    # gives it to the lowest code at the deepest level, m1 (…001 < …002).
    redraw(world["m1"], (105.40, 28.90, 105.42, 28.95))
    assert changed_grid_ids() == [world["m1"].pk]
    report = reassign()
    # Examined: the case in m1 (assigned to it) and the one in m2 (inside m1's new boundary).
    assert report.mode == "affected" and report.examined == 2
    assert report.moved == 1
    assert grid_of(cases["in_m2"]) == "510502001001001001"
    assert grid_of(cases["in_m1"]) == "510502001001001001"
    assert cases["in_m1"].grid_version == 2  # still in m1, now in its second drawing
    entry = TrailEntry.objects.get(case=cases["in_m2"], action="reassign")
    assert entry.data["from_grid"] == "510502001001001002" and entry.data["to_grid"] == "510502001001001001"
    assert entry.from_status == entry.to_status == "reported"
    # Re-running changes nothing and writes no new trail.
    again = reassign()
    assert again.changed_grids == 0 and again.moved == 0
    assert TrailEntry.objects.filter(action="reassign").count() == 1


def test_shrinking_a_grid_leaves_its_cases_to_the_parent_or_a_dead_corner(world):
    reassign()
    cases = world["cases"]
    # g2 shrinks to its east half: the case at 105.43 falls back to community c1.
    redraw(world["g2"], (105.435, 28.90, 105.45, 28.95))
    reassign()
    assert grid_of(cases["in_g2"]) == "510502001001"
    # A bulk UPDATE that forgets the version is still noticed by the boundary digest.
    Grid.objects.filter(pk=world["district"].pk).update(boundary=box(105.40, 28.85, 105.55, 28.95))
    Grid.objects.filter(pk=world["s2"].pk).update(boundary=box(105.45, 28.85, 105.55, 28.95))
    report = reassign()
    assert report.changed_grids == 2
    assert grid_of(cases["outside"]) == "510502002"
    cases["outside"].refresh_from_db()
    assert cases["outside"].dead_corner is False


def test_deleted_micro_grid_hands_its_cases_up(world):
    reassign()
    Grid.objects.filter(pk=world["m2"].pk).update(is_active=False)
    reassign()
    assert grid_of(world["cases"]["in_m2"]) == "510502001001001"


def test_full_run_by_district_and_command_progress(world):
    # Redraw without stamps being consulted: --district re-examines all of that district's cases.
    redraw(world["c2"], (105.40, 28.85, 105.42, 28.88))
    out = io.StringIO()
    call_command("reassign", "--district", "510502", stdout=out)
    text = out.getvalue()
    # 5: the dead-corner case belongs to the district with the nearest boundary.
    assert "district 510502: 5 cases examined" in text and "0 moved to another grid" in text
    assert grid_of(world["cases"]["in_c2"]) == "510502001002"
    Case.objects.filter(pk=world["cases"]["in_c2"].pk).update(grid=world["s1"])
    call_command("reassign", "--full", stdout=io.StringIO())
    assert grid_of(world["cases"]["in_c2"]) == "510502001002"


def test_rewriting_most_cases_offline_rebuilds_the_indexes_and_keeps_them(world, settings):
    """Offline, when the changed share reaches REASSIGN_REBUILD_FRACTION, the plain indexes are dropped
    and built again around the write: same indexes afterwards, same answers as the in-place write."""
    before, keys = case_indexes(), case_foreign_keys()
    Case.objects.update(grid=None, grid_version=None)  # every case lost its grid
    settings.GRIDGIS = {**settings.GRIDGIS, "REASSIGN_REBUILD_FRACTION": 0.5}
    messages = []
    report = reassign(full=True, offline=True, progress=messages.append)
    assert report.strategy == "rebuild indexes" and report.moved == 4  # the dead corner stays without grid
    assert any("setting aside" in m for m in messages) and any(
        m.startswith("case_status_due restored") for m in messages
    )
    assert case_indexes() == before and case_foreign_keys() == keys
    assert grid_of(world["cases"]["in_m2"]) == "510502001001001002"
    assert TrailEntry.objects.filter(action="reassign").count() == 4
    # Below the fraction the same change is written in place.
    Case.objects.filter(pk=world["cases"]["in_m1"].pk).update(grid=None)
    assert reassign(full=True, offline=True).strategy == "in place"
    assert grid_of(world["cases"]["in_m1"]) == "510502001001001001"


def test_an_interrupted_offline_rebuild_leaves_cases_and_indexes_as_they_were(world, settings):
    before, keys = case_indexes(), case_foreign_keys()
    Case.objects.update(grid=None, grid_version=None)
    settings.GRIDGIS = {**settings.GRIDGIS, "REASSIGN_REBUILD_FRACTION": 0.1}

    def interrupt(message):
        if " restored in " in message:  # after the write, while the indexes are being built
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        reassign(full=True, offline=True, progress=interrupt)
    assert case_indexes() == before and case_foreign_keys() == keys
    assert not Case.objects.filter(grid__isnull=False).exists()
    assert not TrailEntry.objects.filter(action="reassign").exists()
    assert reassign(full=True).moved == 4  # and a re-run finishes the job


def test_an_open_case_that_moves_gets_the_people_on_duty_for_its_new_grid(world):
    from layers.grids.models import DutyKind
    from tests.factories import make_duty, make_person

    on_m1, on_g1 = make_person("张网格员"), make_person("李网格员")
    make_duty(world["m1"], DutyKind.OFFICER, on_m1)
    make_duty(world["g1"], DutyKind.OFFICER, on_g1)
    cases = world["cases"]
    Case.objects.filter(pk=cases["in_m2"].pk).update(officer=on_g1)  # as intake gave it: m2 walks up to g1
    reassign()
    redraw(world["m1"], (105.40, 28.90, 105.42, 28.95))  # m1 takes over m2's area (see above)
    reassign()
    moved = Case.objects.get(pk=cases["in_m2"].pk)
    assert moved.grid.code == "510502001001001001" and moved.officer == on_m1
    entry = TrailEntry.objects.get(case=moved, action="reassign")
    assert entry.data["on_duty"] == {"leader": None, "officer": on_m1.pk}


def test_a_closed_case_that_moves_keeps_the_people_who_worked_it(world):
    from layers.grids.models import DutyKind
    from tests.factories import make_duty, make_person

    make_duty(world["m1"], DutyKind.OFFICER, make_person("张网格员"))
    worked_by = make_person("李网格员")
    case = world["cases"]["in_m2"]
    Case.objects.filter(pk=case.pk).update(officer=worked_by, status="closed")
    reassign()
    redraw(world["m1"], (105.40, 28.90, 105.42, 28.95))
    reassign()
    case.refresh_from_db()
    assert case.grid.code == "510502001001001001" and case.officer == worked_by
