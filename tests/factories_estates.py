"""Factories for the estates and inspections tests: estates, projects, points, patrols.

Geometries are axis-aligned boxes and straight lines in EPSG:4326 near Luzhou, as in tests/factories.py.
"""

from __future__ import annotations

import datetime
import itertools

from django.contrib.auth import get_user_model

from layers.estates import services as estate_services
from layers.estates.models import Batch, Estate
from layers.grids.models import Grid
from tests.factories import box

_sequence = itertools.count(1)


def make_user(username: str | None = None, *groups: str, person=None):
    """A user in `groups` (e.g. "planner", "supervisor"), linked to `person` if given; no usable password
    (tests authenticate with force_authenticate)."""
    from django.contrib.auth.models import Group

    user = get_user_model()(username=username or f"user{next(_sequence)}")
    user.set_unusable_password()
    user.save()
    for group in groups:
        user.groups.add(Group.objects.get_or_create(name=group)[0])
    if person is not None:
        person.user = user
        person.save(update_fields=["user"])
    return user


def make_estate(community: Grid, bbox, **fields) -> Estate:
    number = next(_sequence)
    fields.setdefault("name", f"estate {number}")
    fields.setdefault("buildings", 4)
    fields.setdefault("households", 120)
    return estate_services.create_estate(community=community, boundary=box(*bbox), **fields)


def make_project(
    bbox,
    starts_on: datetime.date | None = None,
    ends_on: datetime.date | None = None,
    batch: str = Batch.IMPLEMENT,
    by=None,
    **fields,
):
    number = next(_sequence)
    fields.setdefault("name", f"project {number}")
    return estate_services.create_project(
        by=by, footprint=box(*bbox), batch=batch, starts_on=starts_on, ends_on=ends_on, **fields
    )


def make_point(location, category_code: str = "farmers-market", **fields):
    """An inspection point at `location` (a Point in EPSG:4326) through the service (grid, street set)."""
    from layers.inspections import services as inspection_services
    from layers.inspections.categories import ensure_categories
    from layers.inspections.models import InspectionCategory

    ensure_categories()  # a transactional test elsewhere may have flushed migration 0002's rows
    fields.setdefault("name", f"point {next(_sequence)}")
    return inspection_services.save_point(
        category=InspectionCategory.objects.get(code=category_code), location=location, **fields
    )


def make_patrol(officer, grid, started_at, hours: float = 2.0, track=None, **fields):
    """A patrol of `hours` from `started_at`, with an optional MultiLineString track."""
    from layers.inspections import services as inspection_services
    from layers.inspections.tracks import Track

    patrol = inspection_services.start_patrol(
        officer=officer,
        grid=grid,
        started_at=started_at,
        ended_at=started_at + datetime.timedelta(hours=hours),
        **fields,
    )
    if track is not None:
        inspection_services.attach_track(patrol=patrol, track=Track(geometry=track, positions=len(track.coords)))
    return patrol
