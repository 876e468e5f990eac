"""Old estates (老旧小区) and their renovation (老旧小区改造).

A city keeps an information base of its old residential estates: each estate (小区) has an outline,
the community (社区) it belongs to, its buildings and households, the year it was built and who
manages it. Estates without a property company, without self-management and without an owners'
body are the "three-no" courtyards (三无院落) that renovation targets first (Luzhou: 246 of 1,326).

Renovation is planned as projects with a footprint (the area dug up and rebuilt, often spanning
several estates and the lanes between them) and sorted into three batches: implement now (实施一批),
plan next (谋划一批) and keep in reserve (储备一批). A project moves through planned → approved →
under construction → completed → accepted; every move is kept in ProjectStatusChange with who made it
and when. Its work items are the countable deliverables the seeds report: metres of pipe, m² of
illegal buildings demolished, households with a new pitched roof, parking spaces, EV charging sheds,
street lamps, care rooms, lifts... Pipes may be drawn as lines (their metres then come from the
geometry, measured in the database) and lamps as points.

Residents' suggestions (居民意见) are collected per estate and answered (Hanyuan: 300+).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.gis.db import models
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import Q

from common.units import Unit
from layers.estates.querysets import EstateQuerySet, RenovationProjectQuerySet, WorkItemQuerySet
from layers.grids.models import Grid, Level, name_search_index


class ManagementType(models.TextChoices):
    PROPERTY = "property", "物业管理 property company"
    SELF = "self", "自管 self-managed"
    NONE = "none", "无管理 none (three-no courtyard)"


class Estate(models.Model):
    """One residential estate (小区) of the old-estate information base."""

    name = models.CharField(max_length=100)
    code = models.CharField(max_length=32, blank=True, db_index=True, help_text="the city's estate number, if any")
    community = models.ForeignKey(
        Grid, on_delete=models.PROTECT, related_name="estates", limit_choices_to={"level": Level.COMMUNITY}
    )
    boundary = models.MultiPolygonField(srid=4326)
    address = models.CharField(max_length=200, blank=True)
    buildings = models.PositiveIntegerField(default=0)
    households = models.PositiveIntegerField(default=0)
    year_built = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1900), MaxValueValidator(2100)]
    )
    management_type = models.CharField(max_length=10, choices=ManagementType.choices, default=ManagementType.NONE)
    has_party_organisation = models.BooleanField(default=False, help_text="党组织 set up in the estate")
    has_owners_committee = models.BooleanField(default=False, help_text="业主委员会 elected")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = EstateQuerySet.as_manager()

    class Meta:
        ordering = ["community__code", "name", "id"]
        indexes = [name_search_index("estate_name_trgm")]
        constraints = [
            models.CheckConstraint(
                name="estate_year_built_plausible",
                condition=Q(year_built__isnull=True) | Q(year_built__range=(1900, 2100)),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_three_no(self) -> bool:
        """A "three-no" courtyard (三无院落): nobody manages it, neither a company nor the residents."""
        return self.management_type == ManagementType.NONE


class Batch(models.TextChoices):
    IMPLEMENT = "implement", "实施一批 implement"
    PLAN = "plan", "谋划一批 plan"
    RESERVE = "reserve", "储备一批 reserve"


class ProjectStatus(models.TextChoices):
    PLANNED = "planned", "规划 planned"
    APPROVED = "approved", "批复 approved"
    UNDER_CONSTRUCTION = "under_construction", "施工中 under construction"
    COMPLETED = "completed", "完工 completed"
    ACCEPTED = "accepted", "验收 accepted"


# Which status may follow which: forward one step, or one step back when a review sends it back.
STATUS_TRANSITIONS: dict[str, tuple[str, ...]] = {
    ProjectStatus.PLANNED: (ProjectStatus.APPROVED,),
    ProjectStatus.APPROVED: (ProjectStatus.UNDER_CONSTRUCTION, ProjectStatus.PLANNED),
    ProjectStatus.UNDER_CONSTRUCTION: (ProjectStatus.COMPLETED, ProjectStatus.APPROVED),
    ProjectStatus.COMPLETED: (ProjectStatus.ACCEPTED, ProjectStatus.UNDER_CONSTRUCTION),
    ProjectStatus.ACCEPTED: (),
}


class RenovationProject(models.Model):
    """A renovation project: a footprint over one or more estates, a batch, a status and dates.

    `starts_on`/`ends_on` are the works' period (planned until the works start, then actual); an open
    end means "until further notice" and overlaps every later period.
    """

    name = models.CharField(max_length=150)
    footprint = models.MultiPolygonField(srid=4326)
    estates = models.ManyToManyField(Estate, blank=True, related_name="projects")
    batch = models.CharField(max_length=10, choices=Batch.choices, db_index=True)
    status = models.CharField(
        max_length=20, choices=ProjectStatus.choices, default=ProjectStatus.PLANNED, db_index=True
    )
    starts_on = models.DateField(null=True, blank=True)
    ends_on = models.DateField(null=True, blank=True)
    budget = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True, help_text="yuan")
    description = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RenovationProjectQuerySet.as_manager()

    class Meta:
        ordering = ["batch", "name", "id"]
        constraints = [
            models.CheckConstraint(
                name="project_ends_after_start",
                condition=Q(ends_on__isnull=True) | Q(starts_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
            ),
            models.CheckConstraint(
                name="project_budget_not_negative", condition=Q(budget__isnull=True) | Q(budget__gte=0)
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ProjectStatusChange(models.Model):
    """One move of a project's status: from, to, who and when (the first row is the creation)."""

    project = models.ForeignKey(RenovationProject, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=20, choices=ProjectStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=ProjectStatus.choices)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    changed_at = models.DateTimeField()
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["project", "changed_at", "id"]

    def __str__(self) -> str:
        return f"{self.project_id}: {self.from_status or '-'} → {self.to_status}"


class WorkKind(models.TextChoices):
    PIPES = "pipes", "管网改造 pipes"
    ILLEGAL_BUILDING_DEMOLISHED = "illegal_building_demolished", "拆除违建 illegal building demolished"
    PITCHED_ROOF = "pitched_roof", "平改坡 pitched roof"
    PARKING_SPACES = "parking_spaces", "停车位 parking spaces"
    EV_CHARGING_SHED = "ev_charging_shed", "电动车充电棚 EV charging shed"
    FIRE_PASSAGE = "fire_passage", "消防通道 fire passage cleared"
    WASTE_SORTING_POINT = "waste_sorting_point", "垃圾分类点 waste-sorting point"
    STREET_LAMP = "street_lamp", "路灯 street lamp"
    CARE_ROOM = "care_room", "托老托幼室 elder/child care room"
    LIFT = "lift", "加装电梯 lift"
    GREENING = "greening", "绿化 greening"
    ROAD_SURFACE = "road_surface", "道路硬化 road surfacing"
    OTHER = "other", "其他 other"


# What a work item's quantity is given in.
WORK_ITEM_UNITS = (Unit.METRE, Unit.SQUARE_METRE, Unit.HOUSEHOLD, Unit.SPACE, Unit.ITEM)


DEFAULT_UNIT = {
    WorkKind.PIPES: Unit.METRE,
    WorkKind.ILLEGAL_BUILDING_DEMOLISHED: Unit.SQUARE_METRE,
    WorkKind.PITCHED_ROOF: Unit.HOUSEHOLD,
    WorkKind.PARKING_SPACES: Unit.SPACE,
    WorkKind.GREENING: Unit.SQUARE_METRE,
    WorkKind.ROAD_SURFACE: Unit.SQUARE_METRE,
}

# Geometry types a work item of a kind may carry (any kind may also have none).
GEOMETRY_TYPES = {
    WorkKind.PIPES: ("LineString", "MultiLineString"),
    WorkKind.STREET_LAMP: ("Point", "MultiPoint"),
    WorkKind.FIRE_PASSAGE: ("LineString", "MultiLineString", "Polygon", "MultiPolygon"),
}
ANY_GEOMETRY = ("Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon")


class WorkItem(models.Model):
    """One deliverable of a project: a kind, a quantity in a unit, optionally where it is.

    For pipes drawn as lines the quantity is the geometry's length in metres, measured by PostGIS on
    the spheroid when the item is written (services.save_work_item) and again in every total.
    """

    project = models.ForeignKey(RenovationProject, on_delete=models.CASCADE, related_name="work_items")
    kind = models.CharField(max_length=32, choices=WorkKind.choices, db_index=True)
    quantity = models.DecimalField(max_digits=12, decimal_places=2)
    unit = models.CharField(max_length=10, choices=Unit.choices_of(WORK_ITEM_UNITS))
    geometry = models.GeometryField(srid=4326, null=True, blank=True)
    description = models.CharField(max_length=300, blank=True)

    objects = WorkItemQuerySet.as_manager()

    class Meta:
        ordering = ["project", "kind", "id"]
        constraints = [
            models.CheckConstraint(name="work_item_quantity_not_negative", condition=Q(quantity__gte=0)),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.quantity} {self.unit}"


class SuggestionStatus(models.TextChoices):
    RECEIVED = "received", "已收集 received"
    ANSWERED = "answered", "已答复 answered"
    ADOPTED = "adopted", "已采纳 adopted"
    DECLINED = "declined", "未采纳 declined"


class ResidentSuggestion(models.Model):
    """A resident's suggestion about an estate's renovation, and the answer given."""

    estate = models.ForeignKey(Estate, on_delete=models.CASCADE, related_name="suggestions")
    project = models.ForeignKey(
        RenovationProject, null=True, blank=True, on_delete=models.SET_NULL, related_name="suggestions"
    )
    text = models.TextField()
    submitted_on = models.DateField()
    resident_name = models.CharField(max_length=50, blank=True)
    status = models.CharField(
        max_length=10, choices=SuggestionStatus.choices, default=SuggestionStatus.RECEIVED, db_index=True
    )
    answer = models.TextField(blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-submitted_on", "id"]
        constraints = [
            models.CheckConstraint(
                name="suggestion_answer_matches_status",
                condition=Q(status=SuggestionStatus.RECEIVED, answered_at__isnull=True)
                | (~Q(status=SuggestionStatus.RECEIVED) & Q(answered_at__isnull=False) & ~Q(answer="")),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.estate}: {self.text[:30]}"
