"""Spatial and temporal rules of the inspections layer, one queryset method each."""

from __future__ import annotations

import datetime

from django.contrib.gis.db import models
from django.contrib.gis.geos import Point
from django.db.models import Count, F, FloatField, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce, TruncWeek

from common.spatial import GeographyDistance, GeographyLength


class PointQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)

    def with_distance_to(self, position: Point):
        """Annotate `distance_m`: metres from each point to `position`, on the spheroid."""
        return self.annotate(distance_m=GeographyDistance("location", position))


class PatrolQuerySet(models.QuerySet):
    def started_between(self, since: datetime.datetime, until: datetime.datetime | None = None):
        """Patrols that started at or after `since` (and before `until`)."""
        patrols = self.filter(started_at__gte=since)
        return patrols if until is None else patrols.filter(started_at__lt=until)

    def ledger(self):
        """Rows per officer, grid and week (weeks start on Monday, in the server's time zone):
        patrols, check-ins, track metres (measured on the spheroid) and hours on patrol."""
        # The check-in model through the reverse relation: models.py imports this module, not back.
        check_in_model = self.model._meta.get_field("check_ins").related_model
        check_ins = (
            check_in_model.objects.filter(patrol=OuterRef("pk"))
            .order_by()
            .values("patrol")
            .annotate(n=Count("id"))
            .values("n")
        )
        return (
            self.annotate(
                week=TruncWeek("started_at"),
                patrol_check_ins=Coalesce(Subquery(check_ins), 0),
                patrol_metres=Coalesce(GeographyLength("track"), Value(0.0), output_field=FloatField()),
                patrol_duration=F("ended_at") - F("started_at"),
            )
            .order_by()
            .values("week", "officer_id", "officer__name", "grid__code", "grid__name")
            .annotate(
                patrols=Count("id"),
                check_ins=Sum("patrol_check_ins"),
                track_metres=Sum("patrol_metres"),
                duration=Sum("patrol_duration"),
            )
            .order_by("week", "officer__name", "officer_id", "grid__code")
        )
