"""Inspection points (实地考察点位), patrols and check-ins.

A district keeps a register of the places that need regular eyes on them: markets, back lanes,
parks, school surroundings, stations, hospitals, public toilets, construction sites ... (Jiangyang:
324 points in 42 categories, 23 leaders). Each point has a responsible leader (包片领导), a task
group (攻坚组), the street it lies in and a partner department (包保部门).

Grid officers patrol (巡查): a patrol is an officer's walk with a GPS track, uploaded as GeoJSON or
GPX, plus check-ins at points, each accepted only within a configurable distance of the point
(settings.GRIDGIS["CHECKIN_MAX_DISTANCE_M"], 50 m by default) so that a check-in proves presence.
Schedules say who must walk when (Dujiangyan: "walk the courtyards" every Tuesday); the ledger counts
patrols per officer, grid and week; coverage is the share of a grid's area within 30 m of a recent
track, because a corner nobody walked for weeks is a dead corner too.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.gis.db import models
from django.db.models import F, Q

from layers.grids.models import Department, Grid, Level, Person, name_search_index
from layers.inspections.querysets import PatrolQuerySet, PointQuerySet


class InspectionCategory(models.Model):
    """A kind of inspection point (Jiangyang's register has 42); seeded by migration 0002."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=50)
    name_en = models.CharField(max_length=80, blank=True)
    sort_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name_plural = "inspection categories"

    def __str__(self) -> str:
        return self.name


class InspectionPoint(models.Model):
    """A place officers must visit: where it is, what kind, and who answers for it."""

    name = models.CharField(max_length=100)
    code = models.CharField(max_length=32, blank=True, db_index=True)
    category = models.ForeignKey(InspectionCategory, on_delete=models.PROTECT, related_name="points")
    location = models.PointField(srid=4326)
    address = models.CharField(max_length=200, blank=True)
    # The grid answering for the location (Grid.objects.smallest_covering) and its street, both set
    # by services.save_point when the location is written.
    grid = models.ForeignKey(Grid, null=True, blank=True, on_delete=models.SET_NULL, related_name="inspection_points")
    street = models.ForeignKey(
        Grid,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="street_points",
        limit_choices_to={"level": Level.STREET},
    )
    responsible_leader = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.PROTECT, related_name="led_points"
    )
    task_group = models.ForeignKey(
        Department,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="task_group_points",
        limit_choices_to={"kind": Department.Kind.TASK_GROUP},
    )
    partner_department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.PROTECT, related_name="partner_points"
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = PointQuerySet.as_manager()

    class Meta:
        ordering = ["category__sort_order", "name", "id"]
        indexes = [name_search_index("inspection_point_name_trgm")]

    def __str__(self) -> str:
        return self.name


class PatrolSchedule(models.Model):
    """A weekly duty to patrol: every officer of a grid subtree walks on `weekday` (0 = Monday)."""

    name = models.CharField(max_length=100, help_text="e.g. 走院落 walk the courtyards")
    weekday = models.PositiveSmallIntegerField(help_text="0 = Monday ... 6 = Sunday")
    scope = models.ForeignKey(
        Grid,
        on_delete=models.PROTECT,
        related_name="patrol_schedules",
        help_text="officers holding duties in this grid or below it",
    )
    starts_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["scope__code", "weekday", "id"]
        constraints = [
            models.CheckConstraint(name="schedule_weekday_range", condition=Q(weekday__lte=6)),
            models.CheckConstraint(
                name="schedule_ends_after_start", condition=Q(ends_on__isnull=True) | Q(ends_on__gte=F("starts_on"))
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Patrol(models.Model):
    """One officer's patrol: when, in which grid, and the GPS track walked (a MultiLineString, one
    part per GPX segment, so that a gap in the signal is not drawn as a straight walk)."""

    officer = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="patrols")
    grid = models.ForeignKey(Grid, on_delete=models.PROTECT, related_name="patrols")
    schedule = models.ForeignKey(
        PatrolSchedule, null=True, blank=True, on_delete=models.SET_NULL, related_name="patrols"
    )
    started_at = models.DateTimeField(db_index=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    track = models.MultiLineStringField(srid=4326, null=True, blank=True)
    track_positions = models.PositiveIntegerField(default=0)
    track_uploaded_at = models.DateTimeField(null=True, blank=True)
    track_uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = PatrolQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at", "id"]
        constraints = [
            models.CheckConstraint(
                name="patrol_ends_after_start", condition=Q(ended_at__isnull=True) | Q(ended_at__gte=F("started_at"))
            ),
        ]
        indexes = [models.Index(fields=["officer", "started_at"], name="patrol_officer_start")]

    def __str__(self) -> str:
        return f"{self.officer} {self.started_at:%Y-%m-%d %H:%M}"


class CheckIn(models.Model):
    """An officer's check-in at a point during a patrol, with where it was made and how far away."""

    patrol = models.ForeignKey(Patrol, on_delete=models.CASCADE, related_name="check_ins")
    point = models.ForeignKey(InspectionPoint, on_delete=models.PROTECT, related_name="check_ins")
    location = models.PointField(srid=4326)
    distance_m = models.FloatField(help_text="metres from the point, measured by PostGIS on the spheroid")
    checked_at = models.DateTimeField()
    note = models.CharField(max_length=300, blank=True)
    # What the officer saw there (checked and stripped of EXIF like every photo: common/photos.py).
    photo = models.ImageField(upload_to="checkins/%Y/%m/", blank=True, db_default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["checked_at", "id"]
        constraints = [models.UniqueConstraint(fields=["patrol", "point"], name="one_check_in_per_point_and_patrol")]

    def __str__(self) -> str:
        return f"{self.point} @ {self.checked_at:%Y-%m-%d %H:%M}"


class CoverageWeek(models.Model):
    """A week whose patrol coverage per grid is kept in `GridCoverage` for the leader's dashboard.

    The coverage statement (sql.PATROL_COVERAGE) buffers the week's tracks near each grid (~0.5 s for
    a district's streets at city scale); the queue's `refresh_patrol_coverage` job measures every
    grid the dashboard shows at once and the dashboard reads the rows. `since` and `until` are the
    window the tracks were read from (`until` is the "as of" the dashboard shows). A week without a
    row has not been summarised: the dashboard measures it itself.
    """

    week_start = models.DateField(unique=True)
    since = models.DateTimeField()
    until = models.DateTimeField()
    refreshed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"week of {self.week_start} as of {self.until:%Y-%m-%d %H:%M}"


class GridCoverage(models.Model):
    """One grid's patrol coverage in a summarised week (a row of sql.PATROL_COVERAGE)."""

    week_start = models.DateField()
    grid = models.ForeignKey(Grid, on_delete=models.CASCADE, related_name="+")
    area_m2 = models.FloatField()
    covered_m2 = models.FloatField()
    patrols = models.IntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["week_start", "grid"], name="gridcoverage_week_grid")]

    def __str__(self) -> str:
        return f"week of {self.week_start} grid {self.grid_id}"
