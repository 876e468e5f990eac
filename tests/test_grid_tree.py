"""The grid tree's code rule, enforced in clean(), by a CHECK constraint and by a trigger."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from layers.grids.models import Grid, Level, code_problem
from tests.factories import box, make_grid

pytestmark = pytest.mark.django_db


def test_code_problem_accepts_a_well_formed_chain():
    city = Grid(code="510500", level=Level.CITY)
    district = Grid(code="510502", level=Level.DISTRICT)
    street = Grid(code="510502001", level=Level.STREET)
    assert code_problem(Level.CITY, "510500", None) is None
    assert code_problem(Level.DISTRICT, "510502", city) is None
    assert code_problem(Level.DISTRICT, "510502", None) is None
    assert code_problem(Level.STREET, "510502001", district) is None
    assert code_problem(Level.COMMUNITY, "510502001007", street) is None


@pytest.mark.parametrize(
    "level, code, parent_code, parent_level, message",
    [
        (Level.STREET, "51050201", "510502", Level.DISTRICT, "exactly 9 digits"),
        (Level.STREET, "51050200A", "510502", Level.DISTRICT, "exactly 9 digits"),
        (Level.STREET, "510503001", "510502", Level.DISTRICT, "does not start with its parent's code"),
        (Level.GRID, "510502001001001", "510502001", Level.STREET, "parent must be a community"),
        (Level.DISTRICT, "510602", "510500", Level.CITY, "must be the city 510600"),
        (Level.CITY, "510502", None, None, "ends in 00"),
        (Level.COMMUNITY, "510502001001", None, None, "needs a parent"),
    ],
)
def test_code_problem_names_what_is_wrong(level, code, parent_code, parent_level, message):
    parent = Grid(code=parent_code, level=parent_level) if parent_code else None
    assert message in code_problem(level, code, parent)


def test_clean_rejects_a_child_code_outside_its_parent():
    district = make_grid("510502", Level.DISTRICT, (105.4, 28.8, 105.5, 28.9))
    street = Grid(
        code="510503001", level=Level.STREET, parent=district, name="x", boundary=box(105.4, 28.8, 105.45, 28.9)
    )
    with pytest.raises(ValidationError) as err:
        street.full_clean()
    assert "510502" in str(err.value)


def test_database_trigger_refuses_a_bad_prefix_even_for_bulk_writes():
    district = make_grid("510502", Level.DISTRICT, (105.4, 28.8, 105.5, 28.9))
    with pytest.raises(IntegrityError, match="must extend its parent"), transaction.atomic():
        Grid.objects.bulk_create(
            [
                Grid(
                    code="510503001",
                    level=Level.STREET,
                    parent=district,
                    name="x",
                    boundary=box(105.4, 28.8, 105.45, 28.9),
                )
            ]
        )
    assert Grid.objects.count() == 1


def test_database_check_refuses_wrong_length_for_level():
    with pytest.raises(IntegrityError, match="grid_code_length_by_level"), transaction.atomic():
        make_grid("5105020", Level.DISTRICT, (105.4, 28.8, 105.5, 28.9))


def test_trigger_fills_district_code():
    district = make_grid("510502", Level.DISTRICT, (105.4, 28.8, 105.5, 28.9))
    street = make_grid("510502003", Level.STREET, (105.4, 28.8, 105.45, 28.9), district)
    street.refresh_from_db()
    assert street.district_code == "510502"
