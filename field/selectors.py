"""What the officer app reads, put together from the layers' selectors (no query of its own)."""

from __future__ import annotations

import json

from django.conf import settings
from django.contrib.gis.geos import Point
from django.db.models import Prefetch
from django.utils import timezone

from common import workcalendar
from layers.accounts.roles import request_scope, visible
from layers.grids.selectors import grids_with_codes
from layers.incidents import selectors as incidents
from layers.incidents.api.serializers import CaseDetailSerializer
from layers.incidents.models import Category, Status, TrailEntry
from layers.inspections.selectors import points_list

# What each task status asks of the officer.
TASK_KIND = {Status.CONFIRMING: "confirm", Status.HANDLED: "check"}
MAX_POINTS = 500


def category_by_code(code: str) -> Category | None:
    return Category.objects.filter(code=code, is_active=True).select_related("parent").first()


def _task(case, request) -> dict:
    feature = CaseDetailSerializer(case, context={"request": request, "public": False}).data
    properties = feature["properties"]
    return {
        "id": case.pk,
        "kind": TASK_KIND[case.status],
        "lon": case.location.x,
        "lat": case.location.y,
        "category_name_en": case.category.name_en,
        **{
            name: properties[name]
            for name in (
                "category",
                "category_name",
                "status",
                "description",
                "address",
                "reported_at",
                "due_at",
                "due_clock",
                "time_left_hours",
                "deadline_on_calendar",
                "version",
                "rework_count",
                "me_too_count",
                "photos",
                "trail",
            )
        },
        # When the current stage's clock started, for the share of its time used.
        "stage_started_at": timezone.localtime(case.stage_started_at or case.reported_at).isoformat(),
    }


def home_document(request) -> dict:
    """The officer, their grids (with boundaries), tasks, points, categories and recent categories."""
    scope = request_scope(request)
    user = request.user
    person = getattr(user, "person", None)
    tasks = list(
        incidents.officer_tasks(scope).prefetch_related(
            Prefetch("trail", queryset=TrailEntry.objects.select_related("photo").order_by("at", "id")), "photos"
        )
    )
    now = timezone.now()
    points = visible("point", points_list(), scope).filter(is_active=True)[:MAX_POINTS]
    categories = Category.objects.filter(is_active=True).select_related("parent").order_by("code")
    return {
        "generated_at": now.isoformat(),
        # Years the tasks' deadlines reach whose official calendar is not entered (counted Monday-Friday).
        "calendar_missing_years": workcalendar.unentered_years([case.due_at for case in tasks], now),
        "me": {
            "username": user.get_username(),
            "name": person.name if person else user.get_username(),
            "person_id": person.pk if person else None,
        },
        "grids": [
            {"code": grid.code, "name": grid.name, "boundary": _geojson(grid.boundary)}
            for grid in grids_with_codes(scope.grid_prefixes)
        ],
        "tasks": [_task(case, request) for case in tasks],
        "points": [
            {
                "id": point.pk,
                "name": point.name,
                "category": point.category.name,
                "address": point.address,
                "lon": point.location.x,
                "lat": point.location.y,
            }
            for point in points
        ],
        "categories": [
            {
                "code": category.code,
                "name": category.name_zh,
                "name_en": category.name_en,
                "major": (category.parent.name_zh if category.parent else ""),
                "major_en": (category.parent.name_en if category.parent else ""),
                "keywords": category.keywords,
            }
            for category in categories
            if category.parent_id is not None
        ],
        "recent_categories": [category.code for category in incidents.recent_categories(user)],
        "checkin_max_distance_m": settings.GRIDGIS["CHECKIN_MAX_DISTANCE_M"],
    }


def nearby_document(request, point: Point, category: Category) -> dict:
    """The open cases a report of `category` at `point` would be linked to as "me too"."""
    cases = incidents.open_cases_near(
        point, category, request_scope(request), since=incidents.intake_duplicate_since()
    )[:5]
    return {
        "metres": settings.GRIDGIS["DUPLICATE_METRES"],
        "cases": [
            {
                "id": case.pk,
                "status": case.status,
                "address": case.address,
                "description": case.description[:200],
                "reported_at": case.reported_at.isoformat(),
                "distance_m": round(case.distance_m, 1),
                "me_too_count": case.me_too_count,
            }
            for case in cases
        ],
    }


def _geojson(geometry) -> dict:
    return json.loads(geometry.geojson)
