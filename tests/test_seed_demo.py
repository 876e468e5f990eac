"""seed_demo: deterministic, idempotent, and the generated tree tiles its parents exactly."""

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count

from common.dbfuncs import AreaM2
from fixtures.demo.grids import PLANTED_GAP_CODE, PLANTED_ORPHAN_CODE, PLANTED_OVERLAP_CODE, planted_overlap_partner
from layers.grids.models import Department, Duty, DutyKind, Grid, Level

pytestmark = pytest.mark.django_db(transaction=True)

# Parent minus the sum of its active children's areas, per parent, in m² (AreaM2 segmentizes first).
TILING_SQL = """
SELECT p.code, ST_Area(ST_Segmentize(p.boundary, 0.0001)::geography) - sum(ST_Area(ST_Segmentize(c.boundary, 0.0001)::geography))
FROM grids_grid p JOIN grids_grid c ON c.parent_id = p.id AND c.is_active
WHERE p.is_active AND p.level >= 1 GROUP BY p.id
"""


def fingerprint() -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT md5(string_agg(code || name || ST_AsEWKB(boundary)::text, ',' ORDER BY code)) FROM grids_grid"
        )
        return cursor.fetchone()[0]


def test_demo_tree_counts_tiling_and_planted_defects():
    call_command("seed_demo", verbosity=0, stdout=open("/dev/null", "w"))
    counts = dict(Grid.objects.filter(is_active=True).values_list("level").annotate(n=Count("id")))
    # 45 real streets and towns; 4 communities each, 4 grids each, 3 micro-grids each; one grid and
    # its 3 micro-grids are the planted gap.
    assert counts == {
        Level.CITY: 1,
        Level.DISTRICT: 3,
        Level.STREET: 45,
        Level.COMMUNITY: 180,
        Level.GRID: 719,
        Level.MICROGRID: 2157,
    }
    with connection.cursor() as cursor:
        cursor.execute(TILING_SQL)
        differences = dict(cursor.fetchall())
    removed = Grid.objects.filter(code=PLANTED_GAP_CODE).annotate(m2=AreaM2("boundary")).get()
    assert removed.is_active is False
    overlap_parent = PLANTED_OVERLAP_CODE[:12]
    for code, missing in differences.items():
        if code == PLANTED_GAP_CODE[:12]:
            assert missing == pytest.approx(removed.m2, rel=1e-6)
        elif code == overlap_parent:
            assert missing < -1000  # the redrawn grid now also covers a 30 m strip of its sibling
        else:
            assert abs(missing) < 1, f"{code} is not tiled by its children ({missing:.1f} m² apart)"
    assert planted_overlap_partner() is not None
    assert not Duty.objects.filter(grid__code=PLANTED_ORPHAN_CODE, kind=DutyKind.LEADER).exists()
    # Every other community has exactly one leader and every active unit grid one officer.
    assert Duty.objects.filter(kind=DutyKind.LEADER, grid__level=Level.COMMUNITY).count() == 179
    assert Duty.objects.filter(kind=DutyKind.OFFICER, grid__level=Level.GRID).count() == 719
    assert Department.objects.count() >= 20
    assert Department.objects.filter(kind=Department.Kind.DISPATCH_OFFICE).count() == 3


def test_seed_is_deterministic_and_idempotent():
    call_command("seed_demo", verbosity=0, stdout=open("/dev/null", "w"))
    first = fingerprint()
    call_command("seed_demo", verbosity=0, stdout=open("/dev/null", "w"))  # a no-op
    assert fingerprint() == first
    call_command("seed_demo", reset=True, verbosity=0, stdout=open("/dev/null", "w"))
    assert fingerprint() == first
    with pytest.raises(CommandError, match="--reset"):
        call_command("seed_demo", seed=7, verbosity=0, stdout=open("/dev/null", "w"))


def test_a_layer_added_later_is_seeded_into_an_existing_demo(monkeypatch):
    from common.models import DemoSeed
    from fixtures.management.commands import seed_demo

    all_steps = list(seed_demo.STEPS)
    monkeypatch.setattr(seed_demo, "STEPS", all_steps[:1])
    call_command("seed_demo", verbosity=0, stdout=open("/dev/null", "w"))
    grids_only = fingerprint()
    monkeypatch.setattr(seed_demo, "STEPS", all_steps)
    call_command("seed_demo", verbosity=0, stdout=open("/dev/null", "w"))
    assert fingerprint() == grids_only  # the grids step did not run again
    assert DemoSeed.objects.count() == 2
    assert set(DemoSeed.objects.order_by("finished_at").last().summary) == {s.rsplit(".", 1)[-1] for s in all_steps[1:]}
