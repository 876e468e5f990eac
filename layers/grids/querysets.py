"""Spatial and temporal rules of the grid tree, one queryset method each."""

from __future__ import annotations

import datetime

from django.contrib.gis.db import models
from django.contrib.gis.geos import Point
from django.db.models import Q
from django.db.models.expressions import RawSQL

from layers.grids.sql import SMALLEST_COVERING_ID_SQL


class GridQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)

    def covering(self, point: Point):
        """Active grids whose boundary covers `point` (ST_Covers: a point on an edge counts)."""
        return self.active().filter(boundary__covers=point)

    def smallest_covering(self, point: Point):
        """The one grid that answers for `point`: the deepest active grid covering it.

        The rule every feature uses (locate, case intake, reassignment, audits), defined once as the
        SQL function grids_smallest_covering (migration 0003). A point on an edge shared by sibling
        grids is covered by both; it belongs to the one with the lowest code, so that the answer is
        the same on every call and on every machine. Returns None outside all grids.
        """
        return self.filter(id__in=RawSQL(SMALLEST_COVERING_ID_SQL, [bytes(point.ewkb)])).defer("boundary").first()

    def chain(self, grid):
        """`grid` and its ancestors from the district down (by the code rule: one indexed query)."""
        return self.filter(code__in=grid.ancestor_codes()).defer("boundary").order_by("level")

    def subtree(self, code: str):
        """The grid with `code` and everything below it."""
        return self.filter(code__startswith=code)


class DutyQuerySet(models.QuerySet):
    def active(self, on: datetime.date | None = None):
        """Duties in force on `on` (today by default)."""
        on = on or datetime.date.today()
        return self.filter(starts_on__lte=on).filter(Q(ends_on__isnull=True) | Q(ends_on__gte=on))
