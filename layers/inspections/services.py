"""Writes of the inspections layer: points, schedules, patrols, track uploads and check-ins.

Every function is atomic and takes keyword arguments only; bad input raises a DRF ValidationError
whose key names the field at fault.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib.gis.geos import Point
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.exceptions import ValidationError

from common.photos import CheckedPhoto
from layers.grids.models import Department, Duty, DutyKind, Grid, Level, Person
from layers.inspections.models import CheckIn, InspectionCategory, InspectionPoint, Patrol, PatrolSchedule
from layers.inspections.tracks import Track


def checkin_max_distance_m() -> float:
    return float(settings.GRIDGIS.get("CHECKIN_MAX_DISTANCE_M", 50))


def _place(location: Point) -> tuple[Grid | None, Grid | None]:
    """The grid answering for `location` (THE rule: smallest_covering) and its street."""
    grid = Grid.objects.smallest_covering(location)
    if grid is None:
        return None, None
    street = Grid.objects.chain(grid).filter(level=Level.STREET).first()
    return grid, street


@transaction.atomic
def save_point(
    *,
    name: str,
    category: InspectionCategory,
    location: Point,
    point: InspectionPoint | None = None,
    street: Grid | None = None,
    task_group: Department | None = None,
    **fields,
) -> InspectionPoint:
    """Create or update an inspection point; its grid (and, unless given, its street) follow the location."""
    if street is not None and street.level != Level.STREET:
        raise ValidationError({"street": f"grid {street.code} is a {street.level_name}, not a street"})
    if task_group is not None and task_group.kind != Department.Kind.TASK_GROUP:
        raise ValidationError({"task_group": f"department {task_group.code} is not a task group"})
    grid, located_street = _place(location)
    point = point or InspectionPoint()
    point.name, point.category, point.location, point.grid = name, category, location, grid
    point.street, point.task_group = street or located_street, task_group
    for key, value in fields.items():
        setattr(point, key, value)
    point.save()
    return point


@transaction.atomic
def create_schedule(
    *, name: str, weekday: int, scope: Grid, starts_on: datetime.date, ends_on: datetime.date | None = None
) -> PatrolSchedule:
    """A weekly patrol duty for every officer in `scope`'s subtree."""
    if not 0 <= weekday <= 6:
        raise ValidationError({"weekday": "0 (Monday) to 6 (Sunday)"})
    if ends_on and ends_on < starts_on:
        raise ValidationError({"ends_on": "the schedule cannot end before it starts"})
    return PatrolSchedule.objects.create(name=name, weekday=weekday, scope=scope, starts_on=starts_on, ends_on=ends_on)


def officer_grid(officer: Person, on: datetime.date) -> Grid | None:
    """The grid an officer patrols on `on`: their officer duty's grid (the lowest code if several)."""
    duty = (
        Duty.objects.active(on)
        .filter(kind=DutyKind.OFFICER, person=officer)
        .select_related("grid")
        .order_by("grid__code")
        .first()
    )
    return duty.grid if duty else None


@transaction.atomic
def start_patrol(
    *,
    officer: Person,
    started_at: datetime.datetime,
    by=None,
    grid: Grid | None = None,
    ended_at: datetime.datetime | None = None,
    schedule: PatrolSchedule | None = None,
    note: str = "",
    track: Track | None = None,
) -> Patrol:
    """Record a patrol; without a grid, the officer's duty grid on that day is used."""
    if ended_at is not None and ended_at < started_at:
        raise ValidationError({"ended_at": "a patrol cannot end before it starts"})
    grid = grid or officer_grid(officer, timezone.localtime(started_at).date())
    if grid is None:
        raise ValidationError({"grid": f"{officer.name} holds no officer duty on that day; name the grid"})
    patrol = Patrol.objects.create(
        officer=officer,
        grid=grid,
        started_at=started_at,
        ended_at=ended_at,
        schedule=schedule,
        note=note,
        created_by=by,
    )
    if track is not None:
        attach_track(patrol=patrol, track=track, by=by)
    return patrol


@transaction.atomic
def update_patrol(*, patrol: Patrol, **fields) -> Patrol:
    """End a patrol or change its note; an end cannot come before the start or a check-in."""
    patrol = Patrol.objects.select_for_update().get(pk=patrol.pk)
    ended_at = fields.get("ended_at", patrol.ended_at)
    if ended_at is not None:
        if ended_at < patrol.started_at:
            raise ValidationError({"ended_at": "a patrol cannot end before it starts"})
        last = patrol.check_ins.order_by("-checked_at").values_list("checked_at", flat=True).first()
        if last is not None and ended_at < last:
            raise ValidationError({"ended_at": f"a check-in was made at {last.isoformat()}, after that end"})
    for name, value in fields.items():
        setattr(patrol, name, value)
    patrol.save(update_fields=list(fields))
    return patrol


@transaction.atomic
def attach_track(*, patrol: Patrol, track: Track, by=None) -> Patrol:
    """Store an uploaded track on a patrol (replacing any earlier one), with who uploaded it and when;
    GPX times fill a missing end."""
    patrol = Patrol.objects.select_for_update().get(pk=patrol.pk)
    patrol.track, patrol.track_positions = track.geometry, track.positions
    patrol.track_uploaded_at, patrol.track_uploaded_by = timezone.now(), by
    if patrol.ended_at is None and track.ended_at is not None and track.ended_at >= patrol.started_at:
        patrol.ended_at = track.ended_at
    patrol.save(update_fields=["track", "track_positions", "track_uploaded_at", "track_uploaded_by", "ended_at"])
    return patrol


@transaction.atomic
def check_in(
    *,
    patrol: Patrol,
    point: InspectionPoint,
    location: Point,
    by=None,
    checked_at: datetime.datetime | None = None,
    note: str = "",
    photo: CheckedPhoto | None = None,
) -> CheckIn:
    """Accept a check-in only within the configured distance of the point (measured in PostGIS).

    The distance is measured between the point's stored location and where the officer stood, in
    metres on the spheroid; too far → 400 naming the distance and the limit, and nothing is stored.
    """
    checked_at = checked_at or timezone.now()
    if checked_at < patrol.started_at or (patrol.ended_at is not None and checked_at > patrol.ended_at):
        raise ValidationError(
            {
                "checked_at": f"{checked_at.isoformat()} is outside the patrol "
                f"({patrol.started_at.isoformat()} to "
                f"{patrol.ended_at.isoformat() if patrol.ended_at else 'open'})"
            }
        )
    if not point.is_active:
        raise ValidationError({"point": f"point {point.pk} is no longer inspected"})
    distance = InspectionPoint.objects.with_distance_to(location).values_list("distance_m", flat=True).get(pk=point.pk)
    limit = checkin_max_distance_m()
    if distance > limit:
        raise ValidationError(
            {"location": f"{distance:.1f} m from {point.name}; check-ins are accepted within {limit:g} m"}
        )
    try:
        with transaction.atomic():
            made = CheckIn.objects.create(
                patrol=patrol,
                point=point,
                location=location,
                distance_m=distance,
                checked_at=checked_at,
                note=note,
                created_by=by,
            )
    except IntegrityError:
        raise ValidationError({"point": f"already checked in at {point.name} on this patrol"}) from None
    if photo is not None:
        made.photo.save(f"checkin{made.pk}.{photo.extension}", photo.file, save=True)
    return made
