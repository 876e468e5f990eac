"""tests/demo_db.py: every test that asks for the demo gets the seeded city, and none sees another's rows."""

from django.db import connection

from common.models import DemoSeed
from layers.grids.models import Grid, Level


def test_a_demo_copy_is_the_seeded_city_and_its_writes_stay_in_it(demo_db, django_db_setup):
    demo = django_db_setup
    assert connection.settings_dict["NAME"] not in (demo.test_database, demo.template)
    assert DemoSeed.objects.get().scale == "demo"
    assert Grid.objects.filter(level=Level.DISTRICT).count() == 3
    Grid.objects.filter(level=Level.CITY).update(name="renamed by a test")  # committed: a transactional test

    another = demo.copy()
    try:
        with demo.using(another):
            assert Grid.objects.get(level=Level.CITY).name == "泸州市"  # a fresh copy of the seed
    finally:
        demo.drop(another)
    with demo.using(demo.test_database):
        assert not Grid.objects.exists() and not DemoSeed.objects.exists()  # the test database never sees it
    assert Grid.objects.get(level=Level.CITY).name == "renamed by a test"  # back on this test's own copy
