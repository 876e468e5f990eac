"""Reads of the estates layer: the planners' overlay of a project and the totals per batch/status."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.gis.db.models.functions import Intersection
from django.db.models import QuerySet

from common import overlays
from common.dbfuncs import AreaM2
from common.scopes import Scope
from common.spatial import MetricBuffer
from layers.estates.models import Estate, RenovationProject, WorkItem, WorkKind
from layers.grids.models import Duty, Grid
from layers.grids.selectors import responsibility_for_grid


def overlay_buffer_default() -> float:
    return float(settings.GRIDGIS.get("OVERLAY_CASE_BUFFER_M", 50))


def overlay_buffer_max() -> float:
    return float(settings.GRIDGIS.get("OVERLAY_CASE_BUFFER_MAX_M", 2000))


@dataclass
class Overlay:
    """What a planner must know before digging a project's footprint.

    grids: every active grid sharing area with the footprint (all levels, district first), each with
    overlap_m2; leaders/officers/departments: who answers for the deepest of those grids (walking up
    the tree as layers.grids.selectors does); cases: open cases inside the footprint grown by
    buffer_m metres (nearest first, at most the incidents layer's limit; cases_total counts all), or None
    without an incidents layer; conflicts: other projects sharing area and days with this one.
    """

    project: RenovationProject
    buffer_m: float
    grids: list[Grid] = field(default_factory=list)
    leaders: list[Duty] = field(default_factory=list)
    officers: list[Duty] = field(default_factory=list)
    departments: list[Duty] = field(default_factory=list)
    cases: list[dict] | None = None
    cases_total: int = 0
    conflicts: list[RenovationProject] = field(default_factory=list)


def grids_under_footprint(footprint) -> QuerySet[Grid]:
    """Active grids sharing area with `footprint`, with the shared area in m² (on the spheroid)."""
    return (
        Grid.objects.active()
        .filter(boundary__intersects=footprint)
        .exclude(boundary__touches=footprint)
        .annotate(overlap_m2=AreaM2(Intersection("boundary", footprint)))
        .order_by("level", "code")
    )


def _deepest(grids: list[Grid]) -> list[Grid]:
    # A touched grid with a touched child is covered by it: ask only the deepest ones, so a district's
    # leader is not listed beside the community leader who answers first. (A child sharing area with
    # the footprint means its parent does too, so direct children are enough to look at.)
    parents = {g.parent_id for g in grids}
    return [g for g in grids if g.id not in parents]


def project_overlay(
    project: RenovationProject,
    *,
    buffer_m: float | None = None,
    on: datetime.date | None = None,
    scope: Scope | None = None,
) -> Overlay:
    """The overlay of `project`: grids, responsible people and departments, open cases (those `scope`
    may read; all when None), conflicts."""
    buffer_m = overlay_buffer_default() if buffer_m is None else buffer_m
    overlay = Overlay(project=project, buffer_m=buffer_m)
    overlay.grids = list(grids_under_footprint(project.footprint))
    seen: set[int] = set()
    for grid in _deepest(overlay.grids):
        answer = responsibility_for_grid(grid, on)
        for source, bucket in (
            (answer.leaders, overlay.leaders),
            (answer.officers, overlay.officers),
            (answer.departments, overlay.departments),
        ):
            for duty in source:
                if duty.id not in seen:
                    seen.add(duty.id)
                    bucket.append(duty)
    # What other layers keep on the ground nearby (common.overlays): the open cases, when the incidents
    # layer is installed.
    near = overlays.nearby(reach=open_reach(project, buffer_m), footprint=project.footprint, scope=scope)
    overlay.cases, overlay.cases_total = near.get("cases", (None, 0))
    overlay.conflicts = list(RenovationProject.objects.conflicting_with(project))
    return overlay


def open_reach(project: RenovationProject, buffer_m: float):
    """The project's footprint grown by `buffer_m` metres (a geography buffer, computed once in PostGIS)."""
    return (
        RenovationProject.objects.filter(pk=project.pk)
        .annotate(reach=MetricBuffer("footprint", buffer_m))
        .values_list("reach", flat=True)
        .get()
    )


def estates_list() -> QuerySet[Estate]:
    return Estate.objects.select_related("community")


def projects_list() -> QuerySet[RenovationProject]:
    return RenovationProject.objects.with_estate_figures().select_related("created_by").prefetch_related("estates")


TOTAL_FIELDS = ("projects", "budget", "estates", "buildings", "households", "three_no_estates")
GROUPS = {"batch": ("batch",), "status": ("status",), "batch,status": ("batch", "status")}


def renovation_totals(projects: QuerySet[RenovationProject] | None = None, group: str = "batch,status") -> list[dict]:
    """Totals per batch and/or status, as the seeds report them.

    Each row: the group's keys, projects, budget, estates, buildings, households, three-no estates
    (summed over each project's estates), and per work kind the summed quantity and unit, with pipe
    metres measured from drawn lines. Two GROUP BY queries; the rows are joined here by their keys.
    """
    projects = RenovationProject.objects.all() if projects is None else projects
    keys = GROUPS[group]
    rows = {tuple(row[k] for k in keys): {**row, "work": {}} for row in projects.totals(keys)}
    item_keys = tuple(f"project__{k}" for k in keys)
    for item in WorkItem.objects.filter(project__in=projects).totals(item_keys):
        row = rows[tuple(item[k] for k in item_keys)]
        row["work"][item["kind"]] = {
            "quantity": round(item["quantity"], 2),
            "unit": item["unit"],
            "items": item["items"],
        }
    result = []
    for row in rows.values():
        work = row["work"]
        row["pipe_metres"] = work.get(WorkKind.PIPES, {}).get("quantity", 0)
        row["parking_spaces"] = work.get(WorkKind.PARKING_SPACES, {}).get("quantity", 0)
        row["street_lamps"] = work.get(WorkKind.STREET_LAMP, {}).get("quantity", 0)
        result.append(row)
    return result
