"""Coverage audits: runs that look for dead corners (死角) in the grid tree and what they found.

A grid tree is only useful if its children tile their parent and every grid has someone who answers
for it. An audit run checks a district (or the whole city) for the kinds of dead corner listed in
`Kind`: parts of a parent that no child covers (gap), siblings that both claim the same ground
(overlap), children that stick out of their parent (outside_parent), grids nobody is on duty for
(orphan), places where cases of one category cluster (hotspot), open cases that no grid covers
(dead_corner_case), inspection points nobody owns (unowned_point), points not visited and grids not
patrolled lately (stale) and estates no micro-grid covers or under renovation without a leader
(uncovered_estate). Each kind is one set-based SQL statement (layers/audits/sql.py) that writes its findings
straight into `Finding`; the run keeps its parameters, status, progress and a per-kind summary
(findings listed, slivers counted but not listed), so a city-wide run can report progress while it
works and be resumed or re-run after an interruption.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.gis.db import models

from common.units import Unit


class Kind(models.TextChoices):
    """The kinds of dead corner an audit looks for (the Chinese label heads the ledger column)."""

    GAP = "gap", "空白区 gap"
    OVERLAP = "overlap", "重叠 overlap"
    OUTSIDE_PARENT = "outside_parent", "越界 outside parent"
    ORPHAN = "orphan", "无人负责 orphan"
    HOTSPOT = "hotspot", "热点 hotspot"
    DEAD_CORNER_CASE = "dead_corner_case", "死角案件 dead-corner case"
    UNOWNED_POINT = "unowned_point", "无主点位 unowned point"
    STALE = "stale", "久未巡查 stale"
    UNCOVERED_ESTATE = "uncovered_estate", "未覆盖小区 uncovered estate"

    @property
    def label_zh(self) -> str:
        return self.label.split(" ", 1)[0]


# What a finding's measure counts: the area of a gap or overlap, how many, or for how many days.
FINDING_UNITS = (Unit.SQUARE_METRE, Unit.COUNT, Unit.DAYS)
# The knobs of a run that whoever starts it may set (the API's fields, the command's options); the rest
# of AuditRun.parameters (snap_degrees) comes from settings only.
RUN_PARAMETERS = (
    "min_area_m2",
    "leader_level",
    "officer_level",
    "on",
    "hotspot_cases",
    "hotspot_metres",
    "hotspot_days",
    "stale_days",
)


class AuditRun(models.Model):
    """One audit of a district or of the whole city: parameters, status, progress and summary.

    `parameters` holds the knobs the run was started with (min_area_m2 ...) so that a re-run or a
    resume computes the same thing. `summary` maps each kind to what it found:
    {"gap": {"findings": 1, "slivers": 3, "sliver_m2": 12.5}, ...}; `done` lists the work chunks
    (kind and district) already written, which a resumed run skips.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "排队 queued"
        RUNNING = "running", "运行中 running"
        DONE = "done", "完成 done"
        FAILED = "failed", "失败 failed"

    district_code = models.CharField(max_length=6, blank=True, help_text="empty: the whole tree")
    kinds = models.JSONField(default=list)
    parameters = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True)
    progress = models.FloatField(default=0.0, help_text="0 to 1")
    done = models.JSONField(default=list)
    summary = models.JSONField(default=dict)
    error = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_runs"
    )
    # Who started it, also for runs started from the command line (no user): "cli:root", "api:alice".
    requested_via = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"audit {self.pk} {self.district_code or 'all'} {self.status}"


class Finding(models.Model):
    """One dead corner: its kind, where it is, how big (m², count or days) and whom it concerns.

    `grid` is the grid concerned (the parent for a gap, the first of the pair for an overlap, the
    child for outside_parent, the grid itself for an orphan, the grid most of a hotspot's cases were
    assigned to); `other_grid` the second sibling of an overlap or the parent a child sticks out of;
    `case` the case of a dead-corner case, `point` the inspection point and `estate` the estate concerned. Codes and names are copied at the time of the run, so that the ledger still reads right
    after a grid is renamed or deleted.
    """

    run = models.ForeignKey(AuditRun, on_delete=models.CASCADE, related_name="findings")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    geometry = models.GeometryField(srid=4326, null=True, blank=True)
    measure = models.FloatField()
    unit = models.CharField(max_length=8, choices=Unit.choices_of(FINDING_UNITS))
    grid = models.ForeignKey("grids.Grid", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    grid_code = models.CharField(max_length=18, blank=True)
    grid_name = models.CharField(max_length=100, blank=True)
    other_grid = models.ForeignKey("grids.Grid", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    other_grid_code = models.CharField(max_length=18, blank=True)
    # The case concerned (dead-corner cases); a hotspot lists its cases' ids in detail["case_ids"].
    case = models.ForeignKey("incidents.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    point = models.ForeignKey(
        "inspections.InspectionPoint", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    estate = models.ForeignKey("estates.Estate", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    district_code = models.CharField(max_length=6, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["kind", "grid_code", "other_grid_code", "id"]
        indexes = [models.Index(fields=["run", "kind"], name="finding_run_kind")]

    def __str__(self) -> str:
        return f"{self.kind} {self.grid_code} {self.measure:.1f} {self.unit}"


class RatePeriod(models.Model):
    """A period whose per-grid rates are kept in `GridRate` for the leader's dashboard, and as of when.

    The dashboard's on-time and closure rates come from the assessment (layers/audits/assessment.py),
    which reads a quarter of trail for every request (~0.8 s a quarter at city scale); the queue's
    `refresh_dashboard_rates` job computes them for every grid at once and the dashboard reads them
    here. `cutoff` is the moment the trail was read as of (the "as of" the dashboard shows);
    `complete` says the cutoff reached the period's end, so the period's rows never change again and
    are not recomputed. A period without a row has not been summarised: the dashboard asks the
    assessment itself.
    """

    period = models.CharField(max_length=7, unique=True)
    cutoff = models.DateTimeField()
    complete = models.BooleanField(default=False)
    refreshed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.period} as of {self.cutoff:%Y-%m-%d %H:%M}"


class GridRate(models.Model):
    """One grid's assessment figures for one summarised period (the rows of sql.ASSESSMENT it shows)."""

    period = models.CharField(max_length=7)
    grid = models.ForeignKey("grids.Grid", on_delete=models.CASCADE, related_name="+")
    received = models.IntegerField()
    due = models.IntegerField()
    closed = models.IntegerField()
    on_time = models.IntegerField()
    overdue = models.IntegerField()
    on_time_rate = models.FloatField(null=True)
    closure_rate = models.FloatField(null=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["period", "grid"], name="gridrate_period_grid")]

    def __str__(self) -> str:
        return f"{self.period} grid {self.grid_id}"
