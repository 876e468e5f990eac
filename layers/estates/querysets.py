"""Spatial and temporal rules of the estates layer, one queryset method each."""

from __future__ import annotations

import datetime

from django.contrib.gis.db import models
from django.contrib.gis.db.models.functions import Intersection
from django.contrib.gis.geos import GEOSGeometry
from django.db.models import Case, Count, DecimalField, F, OuterRef, Q, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce, Greatest, Least

from common.dbfuncs import AreaM2
from common.spatial import GeographyLength


class EstateQuerySet(models.QuerySet):
    def sharing_area_with(self, geom: GEOSGeometry):
        """Estates whose outline shares area with `geom` (touching along an edge only does not count)."""
        return self.filter(boundary__intersects=geom).exclude(boundary__touches=geom)

    def three_no(self):
        """The "three-no" courtyards: estates that nobody manages."""
        return self.filter(management_type="none")


class RenovationProjectQuerySet(models.QuerySet):
    def sharing_area_with(self, geom: GEOSGeometry):
        """Projects whose footprint shares area with `geom`.

        ST_Intersects (index-assisted) minus ST_Touches: two footprints that only meet along a kerb
        line do not dig the same ground, so they are not a conflict.
        """
        return self.filter(footprint__intersects=geom).exclude(footprint__touches=geom)

    def active_during(self, starts_on: datetime.date, ends_on: datetime.date | None):
        """Projects whose works period overlaps [starts_on, ends_on] (both days included).

        An open end (null ends_on) runs for ever; a project without a start date is not scheduled
        yet and overlaps nothing.
        """
        periods = self.filter(starts_on__isnull=False).filter(Q(ends_on__isnull=True) | Q(ends_on__gte=starts_on))
        if ends_on is not None:
            periods = periods.filter(starts_on__lte=ends_on)
        return periods

    def conflicting_with(self, project):
        """Other projects overlapping `project` in space and in time, with the shared area and days.

        Annotates overlap_m2 (area of the footprints' intersection on the spheroid) and
        overlap_starts_on / overlap_ends_on (the shared period; an open end stays null).
        """
        if project.starts_on is None:
            return self.none()
        return (
            self.exclude(pk=project.pk)
            .sharing_area_with(project.footprint)
            .active_during(project.starts_on, project.ends_on)
            .annotate(
                overlap_m2=AreaM2(Intersection("footprint", project.footprint)),
                overlap_starts_on=Greatest("starts_on", Value(project.starts_on)),
                # PostgreSQL's LEAST ignores nulls: an open end on one side takes the other's end.
                overlap_ends_on=Least("ends_on", Value(project.ends_on, output_field=models.DateField())),
            )
            .order_by("starts_on", "id")
        )

    def with_estate_figures(self):
        """Annotate each project with its estates' count, buildings and households (one subquery each)."""
        through = self.model.estates.through
        per_project = through.objects.filter(renovationproject=OuterRef("pk")).values("renovationproject")

        def summed(expression):
            return Coalesce(Subquery(per_project.annotate(total=expression).values("total")), 0)

        return self.annotate(
            estate_count=summed(Count("estate")),
            estate_buildings=summed(Sum("estate__buildings")),
            estate_households=summed(Sum("estate__households")),
            three_no_estates=summed(Count("estate", filter=Q(estate__management_type="none"))),
        )

    def totals(self, group_by: tuple[str, ...] = ("batch", "status")):
        """Per group (batch and/or status): projects, budget, estates, buildings and households.

        One GROUP BY over the per-project subqueries: an estate in two projects of a group counts in
        both, as the seeds' reports count households served per project.
        """
        return (
            self.with_estate_figures()
            .order_by()
            .values(*group_by)
            .annotate(
                projects=Count("id"),
                budget=Coalesce(Sum("budget"), Value(0), output_field=DecimalField(max_digits=16, decimal_places=2)),
                estates=Sum("estate_count"),
                buildings=Sum("estate_buildings"),
                households=Sum("estate_households"),
                three_no_estates=Sum("three_no_estates"),
            )
            .order_by(*group_by)
        )


class WorkItemQuerySet(models.QuerySet):
    def with_measured_quantity(self):
        """Annotate `measured`: a drawn pipe's length in metres from its geometry, else the quantity."""
        return self.annotate(
            measured=Case(
                When(kind="pipes", geometry__isnull=False, then=GeographyLength("geometry")),
                default=F("quantity"),
                output_field=models.FloatField(),
            )
        )

    def totals(self, group_by: tuple[str, ...] = ("project__batch", "project__status")):
        """Per group, kind and unit: the summed measured quantity and the number of items."""
        return (
            self.with_measured_quantity()
            .order_by()
            .values(*group_by, "kind", "unit")
            .annotate(quantity=Sum("measured"), items=Count("id"))
            .order_by(*group_by, "kind", "unit")
        )
