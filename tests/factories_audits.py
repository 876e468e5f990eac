"""Helpers for the audit tests: expected areas computed independently of PostGIS.

Expected areas are computed with shapely on coordinates projected by pyproj to EPSG:4544 (CGCS2000
Gauss-Krüger, central meridian 105°E), the metric CRS that covers Luzhou. PostGIS measures the same
shapes on the spheroid (geography); near 105.4°E the projection's scale error is about 2.5e-5 (the
test boxes lie ~45 km from the central meridian), so the two agree to well within 0.1%.
"""

from __future__ import annotations

import shapely
from pyproj import Transformer
from shapely import box as shapely_box

_TO_4544 = Transformer.from_crs("EPSG:4326", "EPSG:4544", always_xy=True)


def metric_area(shape) -> float:
    """Area in m² of a shapely geometry given in lon/lat (EPSG:4326), measured in EPSG:4544."""
    return shapely.transform(shape, _TO_4544.transform, interleaved=False).area


def box_area(lon_min: float, lat_min: float, lon_max: float, lat_max: float) -> float:
    return metric_area(shapely_box(lon_min, lat_min, lon_max, lat_max))


def make_case(
    category,
    lon: float,
    lat: float,
    reported_at,
    *,
    status: str = "reported",
    grid=None,
    department=None,
    leader=None,
    final_due_at=None,
    duplicate_of=None,
    district_code: str = "510502",
):
    """A case written directly (no intake rules), for audits and assessments over hand-made histories."""
    from django.contrib.gis.geos import Point

    from layers.incidents.models import Case

    return Case.objects.create(
        category=category,
        status=status,
        location=Point(lon, lat, srid=4326),
        reported_at=reported_at,
        grid=grid,
        department=department,
        leader=leader,
        final_due_at=final_due_at,
        duplicate_of=duplicate_of,
        district_code=district_code,
        closed_at=None,
    )


def add_steps(case, *steps) -> None:
    """Trail entries for `case`: each step is (action, at) or (action, at, escalation_level)."""
    from layers.incidents.models import TrailEntry

    for step in steps:
        action, at, *rung = step
        TrailEntry.objects.create(
            case=case,
            at=at,
            action=action,
            actor_name="test",
            from_status="",
            to_status=case.status,
            escalation_level=rung[0] if rung else None,
        )
