"""Cases (事件/部件): what citizens and officers report, and the seven-stage loop that fixes them.

The national digital-city-management model runs every problem through one loop:
report (上报) → [confirm on site (核实), when the dispatcher asks the grid officer to look first] →
register (立案) or reject (不予立案) → dispatch (派遣) to a department → handle
(处置) → feed back with an after-photo (反馈, "handled") → verify on site by the grid officer
(核查; a failed check sends the case back to the department as rework, 返工) → close (结案).
A department may return a case that is not its own (退回) for re-dispatch.

Problems come in a two-level category tree (major/minor). Each category has a default department
and a time limit per stage, in hours of **working time** (工作时间, on the city's official calendar:
common.models) or of **clock time** (自然时间, for urgent problems such as a missing manhole cover), as
each limit says. Every due time is computed by one SQL function (gridgis_due), for one case as for
millions (layers/incidents/bulk.py, apply_category_limits). A late case climbs the ladder "rectify → expose →
deduct points → hold to account" (一整改、二曝光、三扣分、四问责); see layers/incidents/escalation.py.

A case records where it was reported (in EPSG:4326, plus the input exactly as received with its CRS)
and who answers for it: the smallest grid covering the point (the grids layer's one rule), its
department (routing rules), responsible leader and grid officer; `provenance` says which rule chose
each party and which drawing (grid version) of the grid was used, so a later redraw can find the
cases it affects (layers/incidents/reassign.py). `district_code` is stored on every case so that the
table can be partitioned or distributed (Citus) by district.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.gis.db import models
from django.db.models import Q
from django.utils import timezone

from common.models import Clock
from layers.grids.models import Department, Grid, Person


class Category(models.Model):
    """A problem category: a major (parent null) or a minor under one major.

    Stage limits are hours of working or clock time (`<stage>_clock`); a minor without its own limit
    or clock inherits its major's, a major the settings' (see `limit_hours`, `limit_clock`).
    """

    code = models.CharField(max_length=16, unique=True)
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        limit_choices_to={"parent__isnull": True},
    )
    name_zh = models.CharField(max_length=100)
    name_en = models.CharField(max_length=100)
    # What the category covers, in a line, for the citizen choosing one on the report page.
    description_zh = models.CharField(max_length=200, blank=True)
    description_en = models.CharField(max_length=200, blank=True)
    keywords = models.CharField(max_length=200, blank=True, help_text="comma-separated, for Open311 services")
    default_department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.SET_NULL, related_name="default_categories"
    )
    register_hours = models.PositiveIntegerField(
        null=True, blank=True, help_text="hours to register, in the register clock"
    )
    dispatch_hours = models.PositiveIntegerField(
        null=True, blank=True, help_text="hours to dispatch, in the dispatch clock"
    )
    handle_hours = models.PositiveIntegerField(null=True, blank=True, help_text="hours to handle, in the handle clock")
    verify_hours = models.PositiveIntegerField(null=True, blank=True, help_text="hours to verify, in the verify clock")
    confirm_hours = models.PositiveIntegerField(
        null=True, blank=True, help_text="hours for the grid officer to confirm a report on site, in the confirm clock"
    )
    # --- Which clock each stage limit counts (working time on the calendar, or clock time) ---
    register_clock = models.CharField(max_length=8, choices=Clock.choices, blank=True, help_text="blank: inherit")
    dispatch_clock = models.CharField(max_length=8, choices=Clock.choices, blank=True, help_text="blank: inherit")
    handle_clock = models.CharField(max_length=8, choices=Clock.choices, blank=True, help_text="blank: inherit")
    verify_clock = models.CharField(max_length=8, choices=Clock.choices, blank=True, help_text="blank: inherit")
    confirm_clock = models.CharField(max_length=8, choices=Clock.choices, blank=True, help_text="blank: inherit")
    # Open311 service-definition attributes, as the spec's attribute objects (code, datatype, ...).
    attributes = models.JSONField(default=list, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]
        verbose_name_plural = "categories"
        constraints = [
            models.CheckConstraint(name="category_not_own_parent", condition=~Q(parent=models.F("id"))),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name_zh}"

    @property
    def is_major(self) -> bool:
        return self.parent_id is None

    def limit_clock(self, stage: str) -> str:
        """Which clock (common.models.Clock) the `stage` limit counts, inherited from the major."""
        own = getattr(self, f"{stage}_clock")
        if own:
            return own
        if self.parent is not None:
            return self.parent.limit_clock(stage)
        return settings.GRIDGIS["DEFAULT_STAGE_CLOCK"][stage]

    def limit_hours(self, stage: str) -> int:
        """Hours allowed for `stage` (confirm/register/dispatch/handle/verify), inherited from the major, in
        the clock `limit_clock(stage)` names."""
        own = getattr(self, f"{stage}_hours")
        if own is not None:
            return own
        if self.parent is not None:
            return self.parent.limit_hours(stage)
        return settings.GRIDGIS["DEFAULT_STAGE_HOURS"][stage]


class RoutingRule(models.Model):
    """Category × department: the department fixes that category inside its jurisdiction polygon.

    A rule on a major category covers its minors. Among rules whose department's jurisdiction covers
    the point, the smallest jurisdiction (in m²) wins, then a rule on the minor over one on the major,
    then the lowest id; with none, the category's default department; else the district's dispatch office.
    """

    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="routing_rules")
    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="routing_rules")
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["category__code", "department__code"]
        constraints = [models.UniqueConstraint(fields=["category", "department"], name="routing_rule_unique")]

    def __str__(self) -> str:
        return f"{self.category.code} → {self.department.code}"


class Status(models.TextChoices):
    REPORTED = "reported", "上报 reported"
    # 核实: a dispatcher sent the report to the grid's officer to confirm on site before registering it.
    CONFIRMING = "confirming", "核实中 confirming"
    CONFIRMED = "confirmed", "已核实 confirmed"
    REGISTERED = "registered", "立案 registered"
    REJECTED = "rejected", "不予立案 rejected"
    DISPATCHED = "dispatched", "派遣 dispatched"
    HANDLING = "handling", "处置中 handling"
    HANDLED = "handled", "已处置 handled"
    VERIFIED = "verified", "已核查 verified"
    CLOSED = "closed", "结案 closed"
    DUPLICATE = "duplicate", "重复 duplicate"
    # --- Set by the clock-changing requests (layers/incidents/requests.py) ---
    SUSPENDED = "suspended", "挂账 suspended"
    VOIDED = "voided", "作废 voided"


# States in which a case still needs someone to act (and can be late, or attract duplicates).
OPEN_STATUSES = (
    Status.REPORTED,
    Status.CONFIRMING,
    Status.CONFIRMED,
    Status.REGISTERED,
    Status.DISPATCHED,
    Status.HANDLING,
    Status.HANDLED,
    Status.VERIFIED,
)
FINAL_STATUSES = (Status.REJECTED, Status.CLOSED, Status.DUPLICATE, Status.VOIDED)
# A suspended case (挂账) is neither open nor final: its clock stops, it leaves the open and overdue
# lists and escalation, and it comes back when the dispatcher resumes it (layers/incidents/requests.py).
# Which stage limit runs while a case is in a status.
STAGE_OF_STATUS = {
    Status.REPORTED: "register",
    Status.CONFIRMING: "confirm",
    Status.CONFIRMED: "register",
    Status.REGISTERED: "dispatch",
    Status.DISPATCHED: "handle",
    Status.HANDLING: "handle",
    Status.HANDLED: "verify",
    Status.VERIFIED: "verify",
}


class Source(models.TextChoices):
    OFFICER = "officer", "网格员 grid officer"
    CITIZEN = "citizen", "市民 citizen"
    HOTLINE = "hotline", "热线 12345 hotline"
    SUPERVISOR = "supervisor", "督查 supervisor"
    OPEN311 = "open311", "Open311"


class EscalationLevel(models.IntegerChoices):
    NONE = 0, "—"
    RECTIFY = 1, "一整改 rectify"
    EXPOSE = 2, "二曝光 expose"
    DEDUCT = 3, "三扣分 deduct points"
    ACCOUNT = 4, "四问责 hold to account"


class Case(models.Model):
    """One reported problem and where it stands in the loop. See the module docstring."""

    # Indexed by case_category_reported (category first); see Meta.indexes.
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="cases", db_index=False)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.REPORTED)
    source = models.CharField(max_length=12, choices=Source.choices, default=Source.CITIZEN)
    description = models.TextField(max_length=4000, blank=True)
    address = models.CharField(max_length=300, blank=True)
    location = models.PointField(srid=4326)
    input_point = models.JSONField(default=dict, help_text="the point as received: coordinates and CRS")
    input_srs = models.CharField(max_length=16, default="EPSG:4326")
    district_code = models.CharField(
        max_length=6,
        blank=True,  # indexed by case_district_id
        help_text="distribution/partition key; blank when outside every district",
    )

    grid = models.ForeignKey(Grid, null=True, blank=True, on_delete=models.SET_NULL, related_name="cases")
    grid_version = models.PositiveIntegerField(null=True, blank=True)
    department = models.ForeignKey(Department, null=True, blank=True, on_delete=models.SET_NULL, related_name="cases")
    leader = models.ForeignKey(Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="led_cases")
    officer = models.ForeignKey(Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="officer_cases")
    provenance = models.JSONField(default=dict, help_text="which rule chose each party")
    near_edge = models.BooleanField(default=False, help_text="within GRIDGIS EDGE_METRES of its grid's edge")
    edge_distance_m = models.FloatField(null=True, blank=True)
    dead_corner = models.BooleanField(default=False, help_text="no grid covers the point (死角)")
    suggested_grid = models.ForeignKey(
        Grid, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    suggested_distance_m = models.FloatField(null=True, blank=True)

    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="duplicates", db_index=False
    )
    me_too_count = models.PositiveIntegerField(default=0)
    rework_count = models.PositiveIntegerField(default=0)
    escalation_level = models.PositiveSmallIntegerField(choices=EscalationLevel.choices, default=0)
    handled_by = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )

    reported_at = models.DateTimeField()
    due_at = models.DateTimeField(null=True, blank=True, help_text="deadline of the current stage")
    final_due_at = models.DateTimeField(null=True, blank=True, help_text="deadline to close, sum of stage limits")
    closed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Bumped by every change staff make; not by me_too_count, which anyone can move (a "me too" must
    # not make the staff's next step fail with 409).
    version = models.PositiveIntegerField(default=1, help_text="bumped by every change; ETag / If-Match")

    # --- The stage clock (common/workcalendar.py): when the current stage started and which clock its
    # limit counts, so that a changed limit can be applied to open cases in one statement.
    stage_started_at = models.DateTimeField(null=True, blank=True, help_text="when the current stage's clock started")
    due_clock = models.CharField(max_length=8, choices=Clock.choices, blank=True, help_text="the clock of due_at")
    # --- Clock-changing requests (layers/incidents/requests.py): extensions granted, and a suspension's
    # stopped clock (the status it left, the time it had left in that stage's clock, the review date).
    # Defaults in the database too: bulk INSERTs (layers/incidents/bulk.py) name only the columns they set.
    extension_count = models.PositiveSmallIntegerField(default=0, db_default=0)
    suspended_from = models.CharField(max_length=12, blank=True, default="", db_default="")
    suspended_left_s = models.FloatField(null=True, blank=True, help_text="seconds left when the clock stopped")
    suspended_final_left_s = models.FloatField(null=True, blank=True, help_text="seconds left to close, likewise")
    review_on = models.DateField(null=True, blank=True, help_text="when a suspended case is to be reviewed")

    # Personal data of the reporter: never shown in public (Open311) reads.
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reported_cases",
        db_index=False,
    )
    reporter_name = models.CharField(max_length=100, blank=True)
    reporter_phone = models.CharField(max_length=32, blank=True)
    reporter_email = models.EmailField(blank=True)
    media_url = models.URLField(blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    idempotency_key = models.CharField(max_length=128, null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-reported_at", "-id"]
        constraints = [
            models.CheckConstraint(
                name="case_escalation_level_range", condition=Q(escalation_level__gte=0, escalation_level__lte=4)
            ),
        ]
        # Every index is written again for each row a bulk reassignment rewrites (2.2 million at city
        # scale), so there is one per access path: composite ones serve their leading column too, and
        # columns that are mostly empty get partial indexes that hold only the rows that have a value.
        indexes = [
            models.Index(fields=["status", "due_at"], name="case_status_due"),
            models.Index(fields=["category", "reported_at"], name="case_category_reported"),
            models.Index(fields=["district_code", "id"], name="case_district_id"),
            *(
                models.Index(fields=[name], name=f"case_{name}", condition=Q(**{f"{name}__isnull": False}))
                for name in ("suggested_grid", "duplicate_of", "handled_by", "reporter")
            ),
            # Dead corners are few and searched for by supervisors and the audit across the city.
            models.Index(fields=["reported_at"], name="case_dead_corner", condition=Q(dead_corner=True)),
            # The office work lists (layers/incidents/worklist.py) read open cases by time left, a page at
            # a time: the whole queue, or one department's inbox. Partial on the open statuses, so the
            # millions of closed cases are not in them and a reassignment rewrites few of their rows.
            models.Index(fields=["due_at", "id"], name="case_open_due", condition=Q(status__in=OPEN_STATUSES)),
            models.Index(
                fields=["department", "due_at", "id"],
                name="case_open_department_due",
                condition=Q(status__in=OPEN_STATUSES),
            ),
            # The dashboard's open and overdue cases per child grid and escalation rung
            # (layers/audits/dashboard.py), counted from this index alone.
            models.Index(
                fields=["grid"],
                name="case_open_grid",
                include=["escalation_level", "due_at"],
                condition=Q(status__in=OPEN_STATUSES),
            ),
        ]

    def __str__(self) -> str:
        return f"case {self.pk} {self.category.code} {self.status}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def etag(self) -> str:
        return f'"{self.version}"'


def _unguessable(folder: str, filename: str) -> str:
    """A stored name nobody can guess from the case or the order of uploads (random, 192 bits)."""
    import secrets

    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"{folder}/{timezone.now():%Y/%m}/{secrets.token_urlsafe(24)}.{extension}"


def public_photo_name(instance, filename: str) -> str:
    return _unguessable("cases", filename)


def original_photo_name(instance, filename: str) -> str:
    return _unguessable("originals", filename)


class Photo(models.Model):
    """A photo of a case: as reported, or after the fix (the handler's proof).

    `image` is the public copy (re-encoded, no metadata), `original` the file as sent (staff only).
    Neither is under a URL of its own: layers/incidents/api/photo_views.py serves them to whoever may
    see the case (the original to staff), streamed from storage.
    """

    class Kind(models.TextChoices):
        REPORT = "report", "上报 report"
        CONFIRM = "confirm", "核实 on-site confirmation"
        AFTER = "after", "处置后 after"
        VERIFY = "verify", "核查 verification"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="photos")
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.REPORT)
    image = models.ImageField(upload_to=public_photo_name)
    original = models.FileField(upload_to=original_photo_name, blank=True)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at", "id"]


class TrailEntry(models.Model):
    """One change of a case: who, when, from which status to which, with a note and maybe a photo."""

    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="trail", db_index=False
    )  # trail_case_at_steps
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    actor_name = models.CharField(max_length=100, blank=True, help_text="'system' for automatic steps")
    action = models.CharField(max_length=20)
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12)
    note = models.TextField(blank=True)
    photo = models.ForeignKey(Photo, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False)
    escalation_level = models.PositiveSmallIntegerField(null=True, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name_plural = "trail entries"
        # System entries (generated, escalation, reassignment) have no actor and most have no photo:
        # partial indexes keep those rows out.
        indexes = [
            # A case's trail in order; with the step and the rung beside the key, the quarterly
            # assessment (layers/audits/sql.py ASSESSMENT) reads the steps of tens of thousands of cases
            # from the index alone (the trail is only ever appended to, so its pages stay all-visible).
            models.Index(fields=["case", "at"], name="trail_case_at_steps", include=["action", "escalation_level"]),
            *(
                models.Index(fields=[name], name=f"trail_{name}", condition=Q(**{f"{name}__isnull": False}))
                for name in ("actor", "photo")
            ),
        ]
        constraints = [
            # The escalation ladder is climbed once per rung: a repeat step cannot be written.
            models.UniqueConstraint(
                fields=["case", "escalation_level"], name="trail_escalation_once", condition=Q(action="escalate")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.action} {self.from_status}→{self.to_status}"


class FollowLink(models.Model):
    """A private link to follow one case's public timeline, without signing in.

    Intake makes one for the reporter (`for_reporter`); a citizen who finds their problem already
    reported nearby may ask for one to the existing case instead of reporting it again. The token is
    `secrets.token_urlsafe` (256 bits): it cannot be guessed or enumerated, unlike the case id. It is
    stored as such (unique, so indexed) rather than hashed, so that a replayed report (the same
    Idempotency-Key) answers with the same link, as the first answer did; it is shown only to whoever
    made the link, never in lists, case details or Open311.
    """

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="follow_links")
    token = models.CharField(max_length=64, unique=True, editable=False)
    for_reporter = models.BooleanField(default=False)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"follow link of case {self.case_id}"


class Open311Key(models.Model):
    """An Open311 api_key allowed to POST requests (one per client application)."""

    key = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=100)
    is_active = models.BooleanField(default=True)

    def __str__(self) -> str:
        return self.name


class GridStamp(models.Model):
    """How each grid was drawn when cases were last reassigned: its version and a digest of its boundary.

    `reassign` compares these stamps with the grid table to find the grids redrawn since (whatever
    wrote them, even a bulk UPDATE that forgot to bump `version`), and re-examines only their cases.
    """

    grid_id = models.BigIntegerField(primary_key=True)
    version = models.PositiveIntegerField()
    digest = models.CharField(max_length=32)
    is_active = models.BooleanField()


class CannedPhrase(models.Model):
    """A stock reason (惯用语) the office picks instead of typing: why a report is rejected, why a
    department returns a case, why a check fails, why a case goes to another department than suggested.

    Kept by the dispatcher's office (admin and /api/v1/incidents/phrases/); the screens offer the
    active phrases of the step's kind in `position` order, and the reason lands in the trail as text,
    so editing a phrase later never rewrites history.
    """

    class Kind(models.TextChoices):
        REJECT = "reject", "不予立案 reject"
        RETURN = "return", "退回 return"
        FAIL = "fail", "核查不通过 failed check"
        DISPATCH = "dispatch", "改派 dispatch elsewhere"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    text = models.CharField(max_length=200)
    position = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )

    class Meta:
        ordering = ["kind", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["kind", "text"], name="canned_phrase_unique")]

    def __str__(self) -> str:
        return f"{self.kind}: {self.text}"


class ReassignAnswer(models.Model):
    """A case's new grid as an online reassignment found it, waiting to be written (layers/incidents/reassign.py).

    The examine step of a run stores here the answers that differ from what the cases hold, district by
    district, each district in its own transaction with the run's checkpoint; the apply step writes
    them in batches by case id. A run interrupted anywhere goes on from here; a finished run's rows go.
    No foreign key to the case: a row here must never queue a check or take a lock on the case table;
    none to the run either, and no surrogate id: a full run stores a row per case (2.2 M at city scale),
    and each key checked or index kept per row cost the examine step 5 s there (bench, 10.9 s against
    5.9 s for 2.2 M rows). The run's rows go when it finishes (sql.FORGET_ANSWERS).
    """

    pk = models.CompositePrimaryKey("run_id", "case_id")
    run_id = models.BigIntegerField()
    case_id = models.BigIntegerField()
    status = models.CharField(max_length=12)
    old_grid_id = models.BigIntegerField(null=True)
    old_version = models.IntegerField(null=True)
    grid_id = models.BigIntegerField(null=True)
    grid_version = models.IntegerField(null=True)
    new_district = models.CharField(max_length=6, null=True)


# --- Requests that change a clock, and supervision orders (layers/incidents/requests.py) --------------------


class ClockRequest(models.Model):
    """A request to extend, return, suspend or void a case, waiting for (or given) someone else's decision."""

    class Kind(models.TextChoices):
        EXTENSION = "extension", "延期 extension"
        RETURN = "return", "回退 return"
        SUSPENSION = "suspension", "挂账 suspension"
        VOID = "void", "作废 void"

    class State(models.TextChoices):
        PENDING = "pending", "待审批 pending"
        APPROVED = "approved", "已批准 approved"
        REFUSED = "refused", "不批准 refused"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="clock_requests", db_index=False)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    state = models.CharField(max_length=8, choices=State.choices, default=State.PENDING)
    reason = models.TextField(max_length=4000)
    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    asked_by_name = models.CharField(max_length=100)
    asked_at = models.DateTimeField()
    wanted_due_at = models.DateTimeField(null=True, blank=True, help_text="extension: the due time asked for")
    review_on = models.DateField(null=True, blank=True, help_text="suspension: when to review the case")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    decided_by_name = models.CharField(max_length=100, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(max_length=4000, blank=True)
    granted_due_at = models.DateTimeField(null=True, blank=True, help_text="extension: the due time granted")

    class Meta:
        ordering = ["asked_at", "id"]
        indexes = [
            models.Index(fields=["case", "asked_at"], name="clockrequest_case_at"),
            models.Index(fields=["kind", "asked_at"], name="clockrequest_pending", condition=Q(state="pending")),
        ]
        constraints = [
            # One request at a time per case: a second one waits for the first's decision.
            models.UniqueConstraint(fields=["case"], name="clockrequest_one_pending", condition=Q(state="pending")),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind} {self.state}"


class SupervisionOrder(models.Model):
    """督办: a leader or supervisor orders a case handled by a date; the department replies. Unanswered
    past `answer_by`, it climbs the escalation ladder (layers/incidents/escalation.py)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="supervision_orders", db_index=False)
    ordered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    ordered_by_name = models.CharField(max_length=100)
    ordered_at = models.DateTimeField()
    answer_by = models.DateTimeField()
    note = models.TextField(max_length=4000)
    reply = models.TextField(max_length=4000, blank=True)
    replied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    replied_by_name = models.CharField(max_length=100, blank=True)
    replied_at = models.DateTimeField(null=True, blank=True)
    escalation_level = models.PositiveSmallIntegerField(choices=EscalationLevel.choices, default=0)

    class Meta:
        ordering = ["ordered_at", "id"]
        indexes = [
            models.Index(fields=["case", "ordered_at"], name="supervision_case_at"),
            models.Index(fields=["answer_by"], name="supervision_unanswered", condition=Q(replied_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} 督办 by {self.answer_by:%Y-%m-%d}"
