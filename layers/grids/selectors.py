"""Reads of the grid tree: who answers for a place."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.contrib.gis.db.models.functions import PointOnSurface
from django.contrib.gis.geos import Point
from django.db.models import Case, CharField, F, QuerySet, Value, When
from django.db.models.functions import Coalesce

from common.prepared import execute_prepared
from layers.grids.models import Duty, DutyKind, Grid, Level
from layers.grids.sql import LOCATE_SQL


@dataclass
class Responsibility:
    """Who is responsible at a point: the grid chain and the duties bound to it."""

    chain: list[Grid] = field(default_factory=list)
    leaders: list[Duty] = field(default_factory=list)
    officers: list[Duty] = field(default_factory=list)
    departments: list[Duty] = field(default_factory=list)

    @property
    def outside(self) -> bool:
        return not self.chain

    @property
    def grid(self) -> Grid | None:
        return self.chain[-1] if self.chain else None


def responsibility_for_grid(grid: Grid, on: datetime.date | None = None) -> Responsibility:
    """The chain from `grid`'s district down to `grid`, with the duties in force on `on`.

    Leaders and officers come from the deepest grid of the chain that has any (walking up from
    `grid`); partner departments and task groups from every grid of the chain.
    """
    # Boundaries are not needed here and are large (a city outline is ~100 KB): leave them behind.
    chain = list(Grid.objects.chain(grid).defer("boundary"))
    duties = list(
        Duty.objects.active(on)
        .filter(grid__in=chain)
        .select_related("person", "department", "grid")
        .defer("grid__boundary", "department__jurisdiction")
        .order_by("-grid__level", "kind", "id")
    )
    result = Responsibility(chain=chain)
    for kind, bucket in ((DutyKind.LEADER, result.leaders), (DutyKind.OFFICER, result.officers)):
        of_kind = [d for d in duties if d.kind == kind]
        if of_kind:
            nearest_level = of_kind[0].grid.level
            bucket.extend(d for d in of_kind if d.grid.level == nearest_level)
    result.departments = [d for d in duties if d.department_id is not None]
    return result


def responsibility_at(point: Point, on: datetime.date | None = None) -> Responsibility:
    """Who answers for `point` (in EPSG:4326): see GridQuerySet.smallest_covering for the rule."""
    grid = Grid.objects.smallest_covering(point)
    if grid is None:
        return Responsibility()
    return responsibility_for_grid(grid, on)


def locate_document(point: Point, on: datetime.date | None = None) -> dict:
    """What GET /locate/ answers, in one round trip (LOCATE_SQL): the same facts as
    responsibility_at(), already shaped as the API's JSON."""
    row = execute_prepared(LOCATE_SQL, [point.x, point.y, on or datetime.date.today()])
    return row[0]  # psycopg decodes json into a dict


# Levels a citizen may look a place up by: micro-grids are single buildings or households' groups
# ("12号楼"), named only within their grid, and districts and the city are too coarse to place a report.
PLACE_LEVELS = {Level.STREET: "street", Level.COMMUNITY: "community", Level.GRID: "grid"}


def grid_places() -> QuerySet[Grid]:
    """Active streets, communities and unit grids as places (layers.grids.places): named, with the
    grid they lie in as context (a unit grid's name, "第3网格", means something only within its
    community) and a point inside the boundary."""
    return (
        Grid.objects.active()
        .filter(level__in=list(PLACE_LEVELS))
        .annotate(
            place_kind=Case(
                *(When(level=level, then=Value(kind)) for level, kind in PLACE_LEVELS.items()),
                output_field=CharField(),
            ),
            place_name=F("name"),
            place_context=Coalesce(F("parent__name"), Value("")),
            place_point=PointOnSurface("boundary"),
        )
    )


def grids_with_codes(codes) -> list[Grid]:
    """The grids with these codes (e.g. a user's duty grids), by code."""
    return list(Grid.objects.filter(code__in=list(codes)).order_by("code"))


def districts() -> list[Grid]:
    """The districts, by code (the choices of a district filter)."""
    return list(Grid.objects.defer("boundary").filter(level=Level.DISTRICT).order_by("code"))


def ancestors_of(grid: Grid) -> list[Grid]:
    """The grids above `grid`, from the district down (a breadcrumb); the code rule finds them."""
    codes = [code for code in grid.ancestor_codes() if code != grid.code]
    return list(Grid.objects.defer("boundary").filter(code__in=codes, level__gte=Level.DISTRICT).order_by("code"))
