"""Writes of the estates layer: estates, projects and their status, work items, suggestions.

Every function is atomic and takes keyword arguments only; bad input raises a DRF ValidationError
whose keys name the field at fault, so the API answers 400 and a command prints the message.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.contrib.gis.geos import GEOSGeometry, MultiPolygon, Polygon
from django.db import transaction
from django.db.models import DecimalField
from django.db.models.functions import Cast, Round
from django.utils import timezone
from rest_framework.exceptions import ValidationError

from common.spatial import GeographyLength
from common.units import Unit
from layers.estates.models import (
    ANY_GEOMETRY,
    DEFAULT_UNIT,
    GEOMETRY_TYPES,
    STATUS_TRANSITIONS,
    Estate,
    ProjectStatus,
    ProjectStatusChange,
    RenovationProject,
    ResidentSuggestion,
    SuggestionStatus,
    WorkItem,
    WorkKind,
)
from layers.grids.models import Grid, Level


def as_multipolygon(geom: GEOSGeometry | None, field: str) -> MultiPolygon:
    """`geom` as a valid, non-empty MultiPolygon in EPSG:4326, or a 400 naming `field`."""
    if geom is None or geom.empty:
        raise ValidationError({field: "a polygon or multipolygon is required"})
    if isinstance(geom, Polygon):
        geom = MultiPolygon(geom, srid=geom.srid)
    if not isinstance(geom, MultiPolygon):
        raise ValidationError({field: f"a {geom.geom_type} was given; a Polygon or MultiPolygon is required"})
    if geom.srid not in (None, 4326):
        raise ValidationError({field: f"geometry must be in EPSG:4326, not EPSG:{geom.srid}"})
    geom.srid = 4326
    if not geom.valid:
        raise ValidationError({field: f"invalid polygon: {geom.valid_reason}"})
    return geom


def _check_community(community: Grid) -> None:
    if community.level != Level.COMMUNITY:
        raise ValidationError({"community": f"grid {community.code} is a {community.level_name}, not a community"})


@transaction.atomic
def create_estate(*, name: str, community: Grid, boundary: GEOSGeometry, **fields) -> Estate:
    """Add an estate to the information base."""
    _check_community(community)
    return Estate.objects.create(
        name=name, community=community, boundary=as_multipolygon(boundary, "boundary"), **fields
    )


@transaction.atomic
def update_estate(*, estate: Estate, **fields) -> Estate:
    """Change an estate's attributes (and outline)."""
    if "community" in fields:
        _check_community(fields["community"])
    if "boundary" in fields:
        fields["boundary"] = as_multipolygon(fields["boundary"], "boundary")
    for name, value in fields.items():
        setattr(estate, name, value)
    estate.save()
    return estate


def _check_period(starts_on: datetime.date | None, ends_on: datetime.date | None) -> None:
    if starts_on and ends_on and ends_on < starts_on:
        raise ValidationError({"ends_on": f"the works cannot end ({ends_on}) before they start ({starts_on})"})


@transaction.atomic
def create_project(
    *,
    by,
    name: str,
    footprint: GEOSGeometry,
    batch: str,
    estates=(),
    starts_on: datetime.date | None = None,
    ends_on: datetime.date | None = None,
    budget: Decimal | None = None,
    description: str = "",
    status: str = ProjectStatus.PLANNED,
    at: datetime.datetime | None = None,
) -> RenovationProject:
    """Create a project and record its first status with who created it and when."""
    _check_period(starts_on, ends_on)
    project = RenovationProject.objects.create(
        name=name,
        footprint=as_multipolygon(footprint, "footprint"),
        batch=batch,
        status=status,
        starts_on=starts_on,
        ends_on=ends_on,
        budget=budget,
        description=description,
        created_by=by,
    )
    project.estates.set(estates)
    ProjectStatusChange.objects.create(
        project=project,
        from_status="",
        to_status=status,
        changed_by=by,
        changed_at=at or timezone.now(),
        note="created",
    )
    return project


@transaction.atomic
def update_project(*, project: RenovationProject, estates=None, **fields) -> RenovationProject:
    """Change a project's attributes; its status changes only through change_project_status."""
    if "status" in fields:
        raise ValidationError({"status": "use the status action, which records who changed it"})
    if "footprint" in fields:
        fields["footprint"] = as_multipolygon(fields["footprint"], "footprint")
    _check_period(fields.get("starts_on", project.starts_on), fields.get("ends_on", project.ends_on))
    for name, value in fields.items():
        setattr(project, name, value)
    project.save()
    if estates is not None:
        project.estates.set(estates)
    return project


@transaction.atomic
def change_project_status(
    *, project: RenovationProject, to_status: str, by, note: str = "", at: datetime.datetime | None = None
) -> ProjectStatusChange:
    """Move a project to `to_status` if the step is allowed, and record who moved it and when."""
    project = RenovationProject.objects.select_for_update().get(pk=project.pk)
    if to_status not in ProjectStatus.values:
        raise ValidationError({"status": f"unknown status {to_status!r}; use one of {', '.join(ProjectStatus.values)}"})
    allowed = STATUS_TRANSITIONS[project.status]
    if to_status not in allowed:
        raise ValidationError(
            {
                "status": f"a project that is {project.status} cannot become {to_status}; "
                f"allowed: {', '.join(allowed) or 'none (final)'}"
            }
        )
    change = ProjectStatusChange.objects.create(
        project=project,
        from_status=project.status,
        to_status=to_status,
        changed_by=by,
        changed_at=at or timezone.now(),
        note=note,
    )
    project.status = to_status
    project.save(update_fields=["status", "updated_at"])
    return change


def _check_work_geometry(kind: str, geometry: GEOSGeometry | None) -> None:
    if geometry is None:
        return
    allowed = GEOMETRY_TYPES.get(kind, ANY_GEOMETRY)
    if geometry.empty or geometry.geom_type not in allowed:
        raise ValidationError(
            {
                "geometry": f"a {kind} work item is drawn as {' or '.join(allowed)}, "
                f"not {'an empty geometry' if geometry.empty else geometry.geom_type}"
            }
        )
    if geometry.srid not in (None, 4326):
        raise ValidationError({"geometry": f"geometry must be in EPSG:4326, not EPSG:{geometry.srid}"})
    geometry.srid = 4326
    if not geometry.valid:
        raise ValidationError({"geometry": f"invalid geometry: {geometry.valid_reason}"})


@transaction.atomic
def save_work_item(
    *,
    project: RenovationProject,
    kind: str,
    quantity: Decimal | None = None,
    unit: str | None = None,
    geometry: GEOSGeometry | None = None,
    description: str = "",
    item: WorkItem | None = None,
) -> WorkItem:
    """Create (or, given `item`, replace the fields of) a work item.

    A pipe drawn as a line takes its quantity from the line: PostGIS measures it in metres on the
    spheroid (the same measure the totals use), so a typed-in figure cannot disagree with the map.
    A lamp item given as points without a quantity counts its points.
    """
    _check_work_geometry(kind, geometry)
    measured_pipe = kind == WorkKind.PIPES and geometry is not None
    counted_lamps = kind == WorkKind.STREET_LAMP and geometry is not None and quantity is None
    if quantity is None and not (measured_pipe or counted_lamps):
        raise ValidationError({"quantity": f"a {kind} work item without a drawn line needs a quantity"})
    if measured_pipe:
        unit = Unit.METRE
    unit = unit or DEFAULT_UNIT.get(kind, Unit.ITEM)
    if kind == WorkKind.PIPES and unit != Unit.METRE:
        raise ValidationError({"unit": "pipes are counted in metres (m)"})
    item = item or WorkItem(project=project)
    item.project, item.kind, item.unit, item.geometry, item.description = project, kind, unit, geometry, description
    item.quantity = quantity if quantity is not None else Decimal(0)
    item.save()
    if measured_pipe:
        WorkItem.objects.filter(pk=item.pk).update(
            quantity=Cast(Round(GeographyLength("geometry"), 2), DecimalField(max_digits=12, decimal_places=2))
        )
        item.refresh_from_db(fields=["quantity"])
    elif counted_lamps:
        item.quantity = Decimal(len(geometry) if geometry.geom_type == "MultiPoint" else 1)
        item.save(update_fields=["quantity"])
    return item


@transaction.atomic
def create_suggestion(
    *,
    estate: Estate,
    text: str,
    submitted_on: datetime.date | None = None,
    resident_name: str = "",
    project: RenovationProject | None = None,
) -> ResidentSuggestion:
    """Record a resident's suggestion."""
    if not text.strip():
        raise ValidationError({"text": "a suggestion needs some text"})
    return ResidentSuggestion.objects.create(
        estate=estate,
        project=project,
        text=text,
        resident_name=resident_name,
        submitted_on=submitted_on or timezone.localdate(),
    )


@transaction.atomic
def answer_suggestion(
    *,
    suggestion: ResidentSuggestion,
    answer: str,
    by,
    status: str = SuggestionStatus.ANSWERED,
    at: datetime.datetime | None = None,
) -> ResidentSuggestion:
    """Answer a suggestion (answered, adopted or declined), recording who answered and when."""
    if status == SuggestionStatus.RECEIVED or status not in SuggestionStatus.values:
        raise ValidationError({"status": "an answer sets the status to answered, adopted or declined"})
    if not answer.strip():
        raise ValidationError({"answer": "the answer is empty"})
    suggestion = ResidentSuggestion.objects.select_for_update().get(pk=suggestion.pk)
    suggestion.answer, suggestion.status, suggestion.answered_by = answer, status, by
    suggestion.answered_at = at or timezone.now()
    suggestion.save(update_fields=["answer", "status", "answered_by", "answered_at"])
    return suggestion
