"""Small factories for tests: grids as axis-aligned boxes in EPSG:4326, people, duties.

Boxes are given in degrees (lon_min, lat_min, lon_max, lat_max) near Luzhou (105.4°E, 28.9°N).
"""

from __future__ import annotations

import datetime
import itertools
import json
from pathlib import Path

from django.contrib.gis.geos import MultiPolygon, Polygon

from layers.grids.models import Department, Duty, DutyKind, Grid, Level, Person

_sequence = itertools.count(1)


def box(lon_min: float, lat_min: float, lon_max: float, lat_max: float) -> MultiPolygon:
    return MultiPolygon(Polygon.from_bbox((lon_min, lat_min, lon_max, lat_max)), srid=4326)


def make_grid(code: str, level: Level, bbox, parent: Grid | None = None, name: str | None = None, **fields) -> Grid:
    return Grid.objects.create(
        code=code, level=level, parent=parent, name=name or f"grid {code}", boundary=box(*bbox), **fields
    )


def make_person(name: str | None = None, **fields) -> Person:
    return Person.objects.create(
        name=name or f"person {next(_sequence)}", phone=fields.pop("phone", "13800000000"), **fields
    )


def make_department(code: str | None = None, **fields) -> Department:
    number = next(_sequence)
    return Department.objects.create(
        code=code or f"DEPT{number:03d}", name=fields.pop("name", f"dept {number}"), **fields
    )


def make_duty(grid: Grid, kind: DutyKind, holder, starts_on: datetime.date | None = None, **fields) -> Duty:
    key = "person" if kind in (DutyKind.LEADER, DutyKind.OFFICER) else "department"
    return Duty.objects.create(
        grid=grid, kind=kind, starts_on=starts_on or datetime.date(2020, 1, 1), **{key: holder}, **fields
    )


def make_person_on_duty(grid: Grid, kind: DutyKind, name: str | None = None, **fields) -> Person:
    """A person holding duty `kind` (a leader or an officer) over `grid`, since 2020."""
    person = make_person(name, **fields)
    make_duty(grid, kind, person)
    return person


def small_tree() -> dict[str, Grid]:
    """A district split into two streets at lon 105.45; street 001 into two communities at lat 28.90;
    community 001001 into two grids at lon 105.42; grid 001001001 into two micro-grids at lat 28.92.

        district 510502          (105.40, 28.85) - (105.50, 28.95)
        street   510502001       west half, street 510502002 east half
        community 510502001001   (105.40, 28.90) - (105.45, 28.95), 510502001002 the south part
        grid 510502001001001     (105.40, 28.90) - (105.42, 28.95), grid ...002 the rest
        micro 510502001001001001 (105.40, 28.92) - (105.42, 28.95), micro ...002 the south part
    """
    d = make_grid("510502", Level.DISTRICT, (105.40, 28.85, 105.50, 28.95), name="江阳区")
    s1 = make_grid("510502001", Level.STREET, (105.40, 28.85, 105.45, 28.95), d, name="南城街道")
    s2 = make_grid("510502002", Level.STREET, (105.45, 28.85, 105.50, 28.95), d, name="北城街道")
    c1 = make_grid("510502001001", Level.COMMUNITY, (105.40, 28.90, 105.45, 28.95), s1, name="白招牌社区")
    c2 = make_grid("510502001002", Level.COMMUNITY, (105.40, 28.85, 105.45, 28.90), s1, name="水井沟社区")
    g1 = make_grid("510502001001001", Level.GRID, (105.40, 28.90, 105.42, 28.95), c1, name="第一网格")
    g2 = make_grid("510502001001002", Level.GRID, (105.42, 28.90, 105.45, 28.95), c1, name="第二网格")
    m1 = make_grid("510502001001001001", Level.MICROGRID, (105.40, 28.92, 105.42, 28.95), g1, name="1号楼")
    m2 = make_grid("510502001001001002", Level.MICROGRID, (105.40, 28.90, 105.42, 28.92), g1, name="2号楼")
    return {"district": d, "s1": s1, "s2": s2, "c1": c1, "c2": c2, "g1": g1, "g2": g2, "m1": m1, "m2": m2}


def write_geojson(path: Path, features: list[tuple[dict, list]]) -> Path:
    """A GeoJSON FeatureCollection file of polygons, one per (properties, outer ring) pair."""
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {"type": "Feature", "properties": props, "geometry": {"type": "Polygon", "coordinates": [ring]}}
                    for props, ring in features
                ],
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    return path


def tree_with_departments(*, bureau_name: str = "城管局") -> dict:
    """small_tree() with the district's dispatch office (JY-DISPATCH, 江阳区指挥中心: dead corners and
    cases no rule routes land there) and two handling departments, the urban-management bureau (JY-CGJ,
    named `bureau_name`) and the water bureau (JY-SW, 水务局), as "office", "cgj" and "water"."""
    grids = small_tree()
    district = grids["district"]
    grids["office"] = make_department(
        "JY-DISPATCH", name="江阳区指挥中心", kind=Department.Kind.DISPATCH_OFFICE, district=district
    )
    grids["cgj"] = make_department("JY-CGJ", name=bureau_name, district=district)
    grids["water"] = make_department("JY-SW", name="水务局", district=district)
    return grids
