"""Reads for the office work lists: a queue of cases by time left, filtered, one page at a time.

A dispatcher's queue may hold tens of thousands of open cases; a page must cost the same whichever
page it is and however long the queue. So the list is ordered by (due_at, id), the columns of the
partial indexes case_open_due and case_open_department_due, and paged by keyset: the next page starts
after the last row's (due_at, id), never with OFFSET. Cases without a due time (final statuses) come
last, ordered by id. Filters narrow the same query in the database; the reader's scope (layers.accounts
.roles) narrows it first, so a screen never lists a case its reader could not open.

"Time left" is read from the current stage's deadline (Case.due_at): overdue when it has passed, due
soon when it falls within GRIDGIS DUE_SOON_HOURS, on time otherwise.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field, replace

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Count, Q, QuerySet, Value
from django.utils import timezone

from common.text import is_ascii_number
from layers.grids.models import Department, Grid
from layers.incidents import sql
from layers.incidents.models import (
    OPEN_STATUSES,
    CannedPhrase,
    Case,
    Category,
    ClockRequest,
    Photo,
    Status,
    TrailEntry,
)
from layers.incidents.selectors import case_queryset, in_grid_subtree, visible_cases, with_clock_facts

ON_TIME, DUE_SOON, OVERDUE = "on_time", "due_soon", "overdue"
TIME_LEFT = (ON_TIME, DUE_SOON, OVERDUE)
MAX_TEXT = 100
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


@dataclass(frozen=True)
class WorkFilter:
    """What a work list shows: statuses (open ones when empty), a category code (a major selects its
    minors), a grid code (its subtree), a department code, a time-left bucket and a search text."""

    statuses: tuple[str, ...] = ()
    category: str = ""
    grid: str = ""
    department: str = ""
    time_left: str = ""
    text: str = ""

    def as_query(self) -> dict[str, str | list[str]]:
        """The filter as URL query parameters (what the screens keep in the address bar)."""
        query: dict[str, str | list[str]] = {}
        if self.statuses:
            query["status"] = list(self.statuses)
        for name in ("category", "grid", "department", "time_left", "text"):
            if getattr(self, name):
                query[name] = getattr(self, name)
        return query


def parse_filter(params, *, default_statuses: tuple[str, ...] = ()) -> WorkFilter:
    """A WorkFilter from query parameters (a QueryDict or a dict of lists); ValidationError naming
    the parameter and saying what it accepts."""
    getlist = params.getlist if hasattr(params, "getlist") else (lambda key: list(params.get(key, [])))
    errors: dict[str, str] = {}
    statuses = tuple(s for value in getlist("status") for s in value.split(",") if s)
    unknown = [s for s in statuses if s not in Status.values]
    if unknown:
        errors["status"] = f"{', '.join(unknown)}: not a status; use {', '.join(Status.values)}"

    def one(name: str) -> str:
        values = getlist(name)
        return (values[-1] if values else "").strip()

    time_left = one("time_left")
    if time_left and time_left not in TIME_LEFT:
        errors["time_left"] = f"{time_left!r}: use one of {', '.join(TIME_LEFT)}"
    grid = one("grid")
    if grid and not is_ascii_number(grid):
        errors["grid"] = f"{grid!r}: a grid code is digits (e.g. 510502001)"
    text = one("text")
    if len(text) > MAX_TEXT:
        errors["text"] = f"at most {MAX_TEXT} characters"
    if errors:
        raise ValidationError(errors)
    return WorkFilter(
        statuses=statuses or default_statuses,
        category=one("category"),
        grid=grid,
        department=one("department"),
        time_left=time_left,
        text=text,
    )


def _time_left_condition(bucket: str, now: datetime.datetime, *, open_only: bool = False) -> Q:
    """The cases of a time-left bucket: open ones by their current deadline. With `open_only` (the
    query already selects open statuses only) the status test is left out: repeated, it would make the
    planner count its selectivity twice, guess a handful of rows for tens of thousands and sort them all
    instead of walking case_open_due; and the counts can then read the index alone."""
    soon = now + datetime.timedelta(hours=settings.GRIDGIS["DUE_SOON_HOURS"])
    if bucket == OVERDUE:
        deadline = Q(due_at__lt=now)
    elif bucket == DUE_SOON:
        deadline = Q(due_at__gte=now, due_at__lt=soon)
    else:
        deadline = Q(due_at__gte=soon) | Q(due_at__isnull=True)
    return deadline if open_only else Q(status__in=OPEN_STATUSES) & deadline


def _open_only(filters: WorkFilter) -> bool:
    return set(filters.statuses or OPEN_STATUSES) <= set(OPEN_STATUSES)


def filtered_cases(
    scope, filters: WorkFilter, *, now: datetime.datetime | None = None, cases: QuerySet[Case] | None = None
) -> QuerySet[Case]:
    """The cases of `scope` (of `cases`, else case_queryset()) that `filters` select (unordered): the
    query every work list pages through."""
    now = now or timezone.now()
    cases = visible_cases(scope, cases)
    cases = cases.filter(status__in=filters.statuses or OPEN_STATUSES)
    if filters.category:
        cases = cases.filter(Q(category__code=filters.category) | Q(category__parent__code=filters.category))
    if filters.grid:
        cases = in_grid_subtree(cases, filters.grid)
    if filters.department:
        cases = cases.filter(department__code=filters.department)
    if filters.time_left:
        cases = cases.filter(_time_left_condition(filters.time_left, now, open_only=_open_only(filters)))
    if filters.text:
        words = Q(description__icontains=filters.text) | Q(address__icontains=filters.text)
        if is_ascii_number(filters.text) and len(filters.text) <= 12:
            words |= Q(pk=int(filters.text))
        cases = cases.filter(words)
    return cases


# What a work-list row and its map marker show (the detail reads the whole case on its own): the
# page's query joins two tables instead of six and carries no descriptions, provenance or attributes.
LISTED_FIELDS = (
    "id",
    "status",
    "address",
    "location",
    "due_at",
    "due_clock",
    "stage_started_at",
    "version",
    "category__code",
    "category__name_zh",
    "category__name_en",
    "grid__code",
    "grid__name",
)


def listed_cases() -> QuerySet[Case]:
    """Cases with the fields a work list shows (and their time left in the stage's clock), in one query."""
    return with_clock_facts(Case.objects.select_related("category", "grid").only(*LISTED_FIELDS))


@dataclass(frozen=True)
class Cursor:
    """Where a page starts: after the case (due_at, id) that ended the previous one."""

    due_at: datetime.datetime | None
    case_id: int

    # Microseconds since the epoch: exact, and safe in a URL (an ISO time's "+" is not).
    def encode(self) -> str:
        due = "" if self.due_at is None else str((self.due_at - _EPOCH) // datetime.timedelta(microseconds=1))
        return f"{due}~{self.case_id}"

    @classmethod
    def decode(cls, text: str) -> Cursor:
        due, _, case_id = (text or "").partition("~")
        if not is_ascii_number(case_id) or not (due == "" or is_ascii_number(due.removeprefix("-"))) or len(text) > 40:
            raise ValidationError({"after": f"{text!r} is not a page cursor; use the `next` the list gave"})
        when = None if due == "" else _EPOCH + datetime.timedelta(microseconds=int(due))
        return cls(due_at=when, case_id=int(case_id))


@dataclass
class Page:
    """One page of a work list and the cursor of the next (None on the last page)."""

    cases: list[Case]
    next: Cursor | None
    filters: WorkFilter
    counts: dict[str, int] = field(default_factory=dict)


def _after(cursor: Cursor) -> Q:
    """The cases after `cursor` in its part of the list: the dated cases (by due_at, then id) or the
    tail without a due time (by id). Each is one AND-ed range, so that the planner starts the index
    walk at the cursor (an Index Cond) instead of filtering every row before it; an OR with the
    undated tail would let it do that, or not, as the statistics fall. work_page() follows the dated
    part with the undated tail when the first runs out inside a page."""
    if cursor.due_at is None:
        return Q(due_at__isnull=True, pk__gt=cursor.case_id)
    return Q(due_at__gte=cursor.due_at) & (Q(due_at__gt=cursor.due_at) | Q(pk__gt=cursor.case_id))


def work_page(
    scope,
    filters: WorkFilter,
    *,
    after: Cursor | None = None,
    size: int | None = None,
    now: datetime.datetime | None = None,
) -> Page:
    """One page of the work list: `size` cases of `filters` by time left (due_at, then id; the cases
    without a due time last), starting after `after`. One indexed query of size + 1 rows, whatever the
    page and the queue's length (two on the page where the dated cases end and the undated begin)."""
    size = size or settings.GRIDGIS["WORKLIST_PAGE_SIZE"]
    cases = filtered_cases(scope, filters, now=now, cases=listed_cases())
    ordered = cases.order_by("due_at", "id")
    rows = list((ordered.filter(_after(after)) if after is not None else ordered)[: size + 1])
    if after is not None and after.due_at is not None and len(rows) <= size:
        rows += list(cases.filter(due_at__isnull=True).order_by("id")[: size + 1 - len(rows)])
    more = len(rows) > size
    rows = rows[:size]
    last = rows[-1] if rows and more else None
    return Page(cases=rows, next=Cursor(last.due_at, last.pk) if last else None, filters=filters)


def time_left_counts(scope, filters: WorkFilter, *, now: datetime.datetime | None = None) -> dict[str, int]:
    """How many cases of `filters` (whatever their time-left filter) fall in each time-left bucket:
    one aggregate query, for the counters above a list. COUNT(1) over the status and the deadline only,
    so that the whole queue is counted from an index (case_status_due, or case_open_due for every open
    status) without visiting the table."""
    now = now or timezone.now()
    cases = filtered_cases(scope, replace(filters, time_left=""), now=now).order_by()
    open_only = _open_only(filters)
    return cases.aggregate(
        **{
            bucket: Count(Value(1), filter=_time_left_condition(bucket, now, open_only=open_only))
            for bucket in TIME_LEFT
        },
        total=Count(Value(1)),
    )


def time_left_of(case: Case, now: datetime.datetime | None = None) -> str:
    """The time-left bucket of one case (for its badge on screen)."""
    now = now or timezone.now()
    if case.status not in OPEN_STATUSES or case.due_at is None:
        return ""
    if case.due_at < now:
        return OVERDUE
    if case.due_at < now + datetime.timedelta(hours=settings.GRIDGIS["DUE_SOON_HOURS"]):
        return DUE_SOON
    return ON_TIME


def filter_choices() -> dict[str, list[tuple[str, str]]]:
    """The choices a work list's filter form offers: statuses and categories (majors with minors)."""
    categories = Category.objects.filter(is_active=True).select_related("parent").order_by("code")
    return {
        "status": list(Status.choices),
        "category": [(c.code, f"{'— ' if c.parent_id else ''}{c.name_zh}") for c in categories],
        "time_left": [(bucket, bucket) for bucket in TIME_LEFT],
    }


def case_for_work(scope, case_id: int) -> Case | None:
    """One case with its photos and trail, if `scope` may see it (None otherwise: a screen answers 404)."""
    return (
        visible_cases(scope, case_queryset().prefetch_related("trail__actor", "trail__photo", "photos"))
        .filter(pk=case_id)
        .first()
    )


@dataclass(frozen=True)
class DispatchChoice:
    """A department a case may be dispatched to, and why it is offered (the first is the suggestion)."""

    department: Department
    why: str
    suggested: bool = False


def dispatch_choices(case: Case) -> list[DispatchChoice]:
    """Where `case` may go: the automatic assignment's department first (its provenance says which rule
    chose it), then the departments with a routing rule for its category, the category's default, and
    the other departments of its district. Dispatching to any but the first needs a reason."""
    rule = (case.provenance or {}).get("department", {}).get("rule", "")
    choices: list[DispatchChoice] = []
    seen: set[int] = set()

    def offer(department: Department | None, why: str, suggested: bool = False) -> None:
        if department is not None and department.pk not in seen:
            seen.add(department.pk)
            choices.append(DispatchChoice(department, why, suggested))

    offer(case.department, rule or "assignment", suggested=True)
    category_ids = [case.category_id] + ([case.category.parent_id] if case.category.parent_id else [])
    for found in (
        Department.objects.filter(routing_rules__category_id__in=category_ids).defer("jurisdiction").order_by("code")
    ):
        offer(found, "routing_rule")
    offer(case.category.default_department, "category_default")
    if case.category.parent_id:
        offer(case.category.parent.default_department, "category_default")
    nearby = Department.objects.defer("jurisdiction").order_by("code")
    if case.district_code:
        nearby = nearby.filter(district__code=case.district_code)
    for found in nearby:
        offer(found, "district")
    return choices


def likely_duplicates(case: Case, *, limit: int = 10) -> list[tuple[Case, float]]:
    """Open cases that may be the same problem as `case` (same category, near in place and time),
    nearest first, with their distance in metres (one statement, sql.LIKELY_DUPLICATES)."""
    config = settings.GRIDGIS
    with connection.cursor() as cursor:
        cursor.execute(
            sql.LIKELY_DUPLICATES,
            {
                "case": case.pk,
                "open": list(OPEN_STATUSES),
                "days": int(config["LIKELY_DUPLICATE_DAYS"]),
                "metres": float(config["LIKELY_DUPLICATE_METRES"]),
                "limit": limit,
            },
        )
        rows = cursor.fetchall()
    found = {c.pk: c for c in case_queryset().filter(pk__in=[row[0] for row in rows])}
    return [(found[case_id], metres) for case_id, metres in rows if case_id in found]


def linked_duplicates(case: Case) -> QuerySet[Case]:
    """The reports merged into `case` as "me too" (each may be unlinked)."""
    return case_queryset().filter(duplicate_of=case, status=Status.DUPLICATE).order_by("reported_at", "id")


def canned_phrases(kind: str | None = None) -> QuerySet[CannedPhrase]:
    """The active stock reasons (惯用语), of one step's kind or all, in the office's order."""
    phrases = CannedPhrase.objects.filter(is_active=True)
    return (phrases.filter(kind=kind) if kind else phrases).order_by("kind", "position", "id")


def last_failed_check(case: Case) -> tuple[TrailEntry | None, list[Photo]]:
    """On a case sent back for rework: the failed check's trail entry (its reasons) and the photos the
    officer took then, for the handler to read above the form."""
    failed = case.trail.filter(action="fail").select_related("photo").order_by("-at", "-id").first()
    if failed is None:
        return None, []
    photos = [failed.photo] if failed.photo is not None else []
    return failed, photos


def edge_alternatives(case: Case) -> list[tuple[Grid, float]]:
    """For a case flagged near its grid's edge: the other grids its point is close to (within twice
    GRIDGIS EDGE_METRES), nearest first, with the distance in metres (sql.EDGE_ALTERNATIVES)."""
    with connection.cursor() as cursor:
        cursor.execute(sql.EDGE_ALTERNATIVES, {"case": case.pk, "metres": 2 * float(settings.GRIDGIS["EDGE_METRES"])})
        rows = cursor.fetchall()
    grids = {g.pk: g for g in Grid.objects.defer("boundary").filter(pk__in=[row[0] for row in rows])}
    return [(grids[grid_id], metres) for grid_id, metres in rows if grid_id in grids]


def pending_requests(scope, kinds: list[str], *, limit: int = 50) -> list[ClockRequest]:
    """The pending clock-changing requests of `kinds` on the cases `scope` sees, oldest first: the
    deciders' queue on the dispatcher's console (layers/incidents/requests.py decides them)."""
    if not kinds:
        return []
    cases = visible_cases(scope, Case.objects.all()).values("id")
    return list(
        ClockRequest.objects.filter(state=ClockRequest.State.PENDING, kind__in=kinds, case__in=cases)
        .select_related("case__category")
        .order_by("asked_at", "id")[:limit]
    )


def pending_request_of(case: Case) -> ClockRequest | None:
    """The request on `case` that waits for a decision (at most one: clockrequest_one_pending)."""
    return case.clock_requests.filter(state=ClockRequest.State.PENDING).select_related("case").first()
