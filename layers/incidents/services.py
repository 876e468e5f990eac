"""Writes of the incidents layer: intake of a report, and every step of the seven-stage workflow."""

from __future__ import annotations

import datetime
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.contrib.gis.geos import Point
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from common import workcalendar
from common.photos import CheckedPhoto
from layers.accounts.roles import scope_for
from layers.grids.models import Department, Grid, Person
from layers.incidents import notices, permissions, sql
from layers.incidents.models import (
    OPEN_STATUSES,
    STAGE_OF_STATUS,
    Case,
    Category,
    FollowLink,
    Photo,
    Source,
    Status,
    TrailEntry,
)
from layers.incidents.selectors import intake_facts, me_too_original, open_cases_near, visible_cases
from layers.incidents.worklist import edge_alternatives

STAGES = ("register", "dispatch", "handle", "verify")
# Every stage with a limit of its own: the loop's, and confirm on site (核实), which runs only when a
# dispatcher sends a report to the grid officer first (so it is not in a case's final deadline).
LIMITED_STAGES = ("confirm", *STAGES)


def stage_clock(category: Category, status: str) -> str:
    """The clock (working or clock time) of the stage that `status` runs; blank when none runs."""
    stage = STAGE_OF_STATUS.get(status)
    return "" if stage is None else category.limit_clock(stage)


def due_after(category: Category, status: str, start: datetime.datetime) -> datetime.datetime | None:
    """When the stage that `status` runs must be done, counted from `start` in its limit's clock by the
    one SQL rule (gridgis_due) that the bulk paths use too."""
    stage = STAGE_OF_STATUS.get(status)
    if stage is None:
        return None
    return workcalendar.due(start, category.limit_hours(stage) * 60, category.limit_clock(stage))


def loop_limits(category: Category) -> list[tuple[int, str]]:
    """(minutes, clock) of each of the loop's stages in turn: what a case's final deadline adds up."""
    return [(category.limit_hours(stage) * 60, category.limit_clock(stage)) for stage in STAGES]


def final_due_after(category: Category, start: datetime.datetime) -> datetime.datetime:
    """The deadline to close a case reported at `start`: every stage's limit, one after the other."""
    return workcalendar.due_after_stages(start, loop_limits(category))


def _save_photos(case: Case, photos: Sequence[CheckedPhoto], kind: str) -> list[Photo]:
    saved = []
    for checked in photos:
        photo = Photo(case=case, kind=kind, width=checked.width, height=checked.height)
        # Stored under random names (models.public_photo_name): the name given here is only the extension's.
        photo.original.save(f"original.{checked.extension}", checked.original, save=False)
        photo.image.save(f"photo.{checked.extension}", checked.file, save=True)
        saved.append(photo)
    return saved


def _actor_name(user) -> str:
    if user is None:
        return "system"
    person = getattr(user, "person", None)
    return person.name if person else user.get_username()


class IntakeRefused(ValueError):
    """A report that cannot be taken as asked; `field` names the input at fault (for the 400)."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def _new_follow_link(case: Case, *, for_reporter: bool, now: datetime.datetime) -> FollowLink:
    return FollowLink.objects.create(
        case=case, token=secrets.token_urlsafe(32), for_reporter=for_reporter, created_at=now
    )


@transaction.atomic
def follow_case(*, case_id: int, point: Point, now: datetime.datetime | None = None) -> FollowLink:
    """A new follow link to an open case near `point`: the reporter page's "follow this one instead",
    for a citizen whose problem is already reported. Only the cases that page offers qualify (open,
    within the radius of open_cases_near), so a link cannot be had for any case by its id."""
    if not open_cases_near(point).filter(pk=case_id).exists():
        metres = settings.GRIDGIS["DUPLICATE_METRES"]
        raise IntakeRefused("case", f"case {case_id} is not an open report within {metres:g} m of this point")
    return _new_follow_link(Case.objects.get(pk=case_id), for_reporter=False, now=now or timezone.now())


@transaction.atomic
def report_case(
    *,
    category: Category,
    point: Point,
    input_point: dict,
    input_srs: str,
    description: str = "",
    address: str = "",
    source: str = Source.CITIZEN,
    reporter=None,
    reporter_name: str = "",
    reporter_phone: str = "",
    reporter_email: str = "",
    media_url: str = "",
    attributes: dict | None = None,
    photos: Sequence[CheckedPhoto] = (),
    idempotency_key: str | None = None,
    me_too_of: int | None = None,
    follow: bool = False,
    now: datetime.datetime | None = None,
) -> tuple[Case, bool]:
    """Take a report: assign it in this transaction, link it as a duplicate or start its workflow.

    Returns (case, True): the flag stays for the callers that unpack it, from when this service also
    answered replays. `idempotency_key` is only recorded on the case: replays are answered before this is called, by
    common/idempotency.py, per client (a key is not unique across clients).
    `me_too_of` joins the report to that case ("me too", chosen by the reporter among those shown
    near the point) instead of the one intake would pick; it must be open and within the radius of
    open_cases_near, else IntakeRefused. `follow` makes the reporter's follow link in the same
    transaction (see FollowLink), kept on the case as `reporter_link` (None without `follow`).
    """
    now = now or timezone.now()
    assignment, original = intake_facts(point, category, now)
    if me_too_of is not None:
        original = me_too_original(point, me_too_of)
        if original is None:
            metres = settings.GRIDGIS["DUPLICATE_METRES"]
            raise IntakeRefused(
                "me_too_of", f"case {me_too_of} is not an open report within {metres:g} m of this point"
            )
    # The deadlines as due_after and final_due_after give them, and the clock facts the answer shows,
    # in one round trip; a duplicate starts no workflow and keeps only the final deadline.
    reported = STAGE_OF_STATUS[Status.REPORTED]
    due_at, final_due_at, time_left_s, deadline_on_calendar = workcalendar.new_workflow_clock(
        now, (category.limit_hours(reported) * 60, category.limit_clock(reported)), loop_limits(category)
    )
    provenance = dict(assignment.provenance)
    provenance["input"] = {"point": input_point, "srs": input_srs}
    case = Case(
        category=category,
        source=source,
        description=description,
        address=address,
        location=point,
        input_point=input_point,
        input_srs=input_srs,
        district_code=assignment.district_code,
        grid=assignment.grid,
        grid_version=assignment.grid.version if assignment.grid else None,
        department=assignment.department,
        leader=assignment.leader,
        officer=assignment.officer,
        provenance=provenance,
        near_edge=assignment.near_edge,
        edge_distance_m=assignment.edge_distance_m,
        dead_corner=assignment.dead_corner,
        suggested_grid=assignment.suggested_grid,
        suggested_distance_m=assignment.suggested_distance_m,
        reporter=reporter,
        reporter_name=reporter_name,
        reporter_phone=reporter_phone,
        reporter_email=reporter_email,
        media_url=media_url,
        attributes=attributes or {},
        idempotency_key=idempotency_key or None,
        reported_at=now,
        status=Status.DUPLICATE if original else Status.REPORTED,
        duplicate_of=original,
        due_at=None if original else due_at,
        due_clock="" if original else stage_clock(category, Status.REPORTED),
        stage_started_at=None if original else now,
        final_due_at=final_due_at,
    )
    case.save()
    saved = _save_photos(case, photos, Photo.Kind.REPORT)
    case.reporter_link = _new_follow_link(case, for_reporter=True, now=now) if follow else None
    note = f"me too: linked to case {original.pk}" if original else ""
    record_step(
        case,
        user=reporter,
        # The actor is who sent the report: a signed-in user by their account, anyone else by the
        # source alone; a reporter_name in the body is a contact, never the actor.
        actor_name=_actor_name(reporter) if reporter else source,
        now=now,
        action="report",
        from_status="",
        note=note,
        photo=saved[0] if saved else None,
    )
    if original is not None:
        _count_me_too(original, case, actor=reporter, actor_name="system", at=now, how="reported")
    # The clock facts the intake answer shows (as case_queryset() annotates them), read inside this
    # transaction: the answer then needs no query after the commit, so a database lost just after it
    # cannot turn a stored case into a 5xx. A new workflow's came with its deadlines.
    if original is None:
        case.time_left_s, case.deadline_on_calendar = time_left_s, deadline_on_calendar
    else:
        case.time_left_s, case.deadline_on_calendar = workcalendar.clock_facts(
            now, case.stage_started_at, case.due_at, case.due_clock
        )
    return case, True


def record_step(
    case: Case,
    *,
    user,
    now,
    action: str,
    from_status: str,
    note: str = "",
    photo: Photo | None = None,
    data: dict | None = None,
    actor_name: str | None = None,
) -> TrailEntry:
    """The trail entry of a step on `case`, which already holds its new status: who (the user, named
    as the trail shows them unless `actor_name` says otherwise), when, what, from which status."""
    return TrailEntry.objects.create(
        case=case,
        at=now,
        actor=user,
        actor_name=_actor_name(user) if actor_name is None else actor_name,
        action=action,
        from_status=from_status,
        to_status=case.status,
        note=note,
        photo=photo,
        data=data or {},
    )


def _count_me_too(original: Case, duplicate: Case, *, actor, actor_name: str, at, how: str) -> None:
    """One more "me too" on `original` (its count and trail), for `duplicate`. Not the version: anyone may
    say "me too", and bumping the optimistic lock would make the staff's next step on the original fail
    with 409."""
    Case.objects.filter(pk=original.pk).update(me_too_count=F("me_too_count") + 1)
    record_step(
        original,
        user=actor,
        actor_name=actor_name,
        now=at,
        action="me_too",
        from_status=original.status,
        note=f"case {duplicate.pk} {how} the same problem",
        data={"duplicate": duplicate.pk},
    )


class WorkflowError(Exception):
    """A refused workflow step; `status` is the HTTP status the API answers with."""

    status = 409

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class ImpossibleTransition(WorkflowError):
    status = 409


class StaleVersion(WorkflowError):
    status = 409


class NotAllowed(WorkflowError):
    status = 403


class MissingInput(WorkflowError):
    status = 400


@dataclass(frozen=True)
class Transition:
    """One workflow action: the statuses it starts from, where it leads, and who may take it."""

    action: str
    sources: tuple[str, ...]
    target: str
    role: str
    needs_note: bool = False
    needs_photo: bool = False


TRANSITIONS = {
    t.action: t
    for t in (
        # 核实: the dispatcher may first send a report to the grid's officer to confirm on site; the officer
        # confirms with a photo, or answers that nothing is there (the report then waits for the
        # dispatcher again, who will usually reject it).
        Transition("send_to_confirm", (Status.REPORTED,), Status.CONFIRMING, permissions.DISPATCHER),
        Transition("confirm", (Status.CONFIRMING,), Status.CONFIRMED, permissions.OFFICER, needs_photo=True),
        Transition("not_found", (Status.CONFIRMING,), Status.REPORTED, permissions.OFFICER),
        Transition("register", (Status.REPORTED, Status.CONFIRMED), Status.REGISTERED, permissions.DISPATCHER),
        Transition(
            "reject", (Status.REPORTED, Status.CONFIRMED), Status.REJECTED, permissions.DISPATCHER, needs_note=True
        ),
        Transition("dispatch", (Status.REGISTERED,), Status.DISPATCHED, permissions.DISPATCHER),
        Transition("accept", (Status.DISPATCHED,), Status.HANDLING, permissions.HANDLER),
        # "return" (回退) is a request the dispatcher approves: layers/incidents/requests.py.
        Transition(
            "handle", (Status.HANDLING,), Status.HANDLED, permissions.HANDLER, needs_note=True, needs_photo=True
        ),
        Transition("verify", (Status.HANDLED,), Status.VERIFIED, permissions.OFFICER),
        Transition("fail", (Status.HANDLED,), Status.HANDLING, permissions.OFFICER, needs_note=True),
        Transition("close", (Status.VERIFIED,), Status.CLOSED, permissions.DISPATCHER),
        Transition("unlink", (Status.DUPLICATE,), Status.REPORTED, permissions.DISPATCHER),
        # The dispatcher's "merge as me too": a new report repeats an open case (intake missed it,
        # e.g. reported a little farther away); it leaves the queue as that case's duplicate.
        Transition("merge", (Status.REPORTED,), Status.DUPLICATE, permissions.DISPATCHER),
    )
}


# The kind of a photo sent with an action (verify, fail and not_found: a verification photo).
PHOTO_KIND_OF_ACTION = {"handle": Photo.Kind.AFTER, "confirm": Photo.Kind.CONFIRM}


@transaction.atomic
def transition(
    *,
    case_id: int,
    action: str,
    user,
    version: int | None,
    note: str = "",
    photo: CheckedPhoto | None = None,
    department: Department | None = None,
    duplicate_of: int | None = None,
    now: datetime.datetime | None = None,
) -> Case:
    """Take workflow step `action` on a case, as `user`, if the case is still at `version`.

    Checks in this order: the action exists, the version is current (else StaleVersion), the case's
    status allows it (else ImpossibleTransition), the user may take it (NotAllowed), its inputs are
    there (MissingInput). Then moves the case, resets its stage clock and writes one trail entry.
    """
    step = TRANSITIONS.get(action)
    if step is None:
        raise ImpossibleTransition(f"unknown action {action!r}; one of {', '.join(TRANSITIONS)}", field="action")
    case = (
        Case.objects.select_for_update(of=("self",))
        .select_related("category__parent", "grid", "officer")
        .get(pk=case_id)
    )
    if version is None:
        raise MissingInput("version: send the case's version (or an If-Match header) to change it", field="version")
    if version != case.version:
        raise StaleVersion(f"version: the case is at version {case.version}, not {version}; reload it", field="version")
    if case.status not in step.sources:
        raise ImpossibleTransition(
            f"cannot {action} a case that is {case.status}; {action} needs status {' or '.join(step.sources)}",
            field="status",
        )
    refusal = permissions.refusal(user, step.role, case)
    if refusal:
        raise NotAllowed(refusal)
    if step.needs_note and not note.strip():
        raise MissingInput(f"note: {action} needs a note", field="note")
    if step.needs_photo and photo is None:
        raise MissingInput(f"photo: {action} needs an after-photo", field="photo")
    if action == "dispatch" and department is not None and department.pk != case.department_id and not note.strip():
        suggested = case.department.code if case.department_id else "none"
        raise MissingInput(
            f"note: dispatching to {department.code} instead of the suggested {suggested} needs a reason",
            field="note",
        )
    original = _merge_target(case, duplicate_of) if action == "merge" else None
    person: Person | None = getattr(user, "person", None)
    if action == "verify" and case.handled_by_id is not None and person is not None and person.pk == case.handled_by_id:
        raise NotAllowed("the person who handled the fix cannot verify it")
    if action == "send_to_confirm" and case.officer_id is None:
        raise ImpossibleTransition("the case's grid has no officer on duty to confirm it on site", field="officer")

    now = now or timezone.now()
    data = {}
    from_status = case.status
    if action == "dispatch" and department is not None:
        data["department"] = {"from": case.department.code if case.department else None, "to": department.code}
        case.department = department
        case.provenance = {
            **case.provenance,
            "department": {"rule": "dispatcher", "department": department.code, "by": _actor_name(user)},
        }
    if action == "register" and case.near_edge:
        # Registering a case flagged near a grid edge is the dispatcher's confirmation of its grid.
        data["edge_confirmed"] = {
            "grid": case.grid.code if case.grid else None,
            "edge_distance_m": case.edge_distance_m,
        }
    if action == "send_to_confirm":
        data["officer"] = {"id": case.officer_id, "name": case.officer.name}
    if action in ("confirm", "not_found"):
        data["found"] = action == "confirm"
    if action == "handle":
        case.handled_by = person
    if action == "fail":
        case.rework_count += 1
        data["rework_count"] = case.rework_count
    if action in ("close", "reject"):
        case.closed_at = now
    if action == "unlink":
        data["unlinked_from"] = case.duplicate_of_id
        if case.duplicate_of_id:
            Case.objects.filter(pk=case.duplicate_of_id, me_too_count__gt=0).update(me_too_count=F("me_too_count") - 1)
        case.duplicate_of = None
    if original is not None:
        data["merged_into"] = original.pk
        case.duplicate_of = original
        _count_me_too(original, case, actor=user, actor_name=_actor_name(user), at=now, how="merged as")
    case.status = step.target
    case.due_at = due_after(case.category, step.target, now)
    case.due_clock = stage_clock(case.category, step.target)
    case.stage_started_at = now if case.due_at else None
    case.version += 1
    case.save()
    saved = (
        _save_photos(case, [photo], PHOTO_KIND_OF_ACTION.get(action, Photo.Kind.VERIFY)) if photo is not None else []
    )
    record_step(
        case,
        user=user,
        now=now,
        action=action,
        from_status=from_status,
        note=note,
        photo=saved[0] if saved else None,
        data=data,
    )
    # --- Who learns of it (layers/incidents/notices.py), in this transaction ---
    if action == "dispatch":
        notices.case_dispatched(case, now)
    elif action == "handle":
        notices.case_awaits_check(case, now)
    return case


def _merge_target(case: Case, duplicate_of: int | None) -> Case:
    """The open case that `case` is merged into (locked, so concurrent merges count right)."""
    if duplicate_of is None:
        raise MissingInput(
            "duplicate_of: merge needs the id of the open case this report repeats", field="duplicate_of"
        )
    if duplicate_of == case.pk:
        raise MissingInput("duplicate_of: a case cannot repeat itself", field="duplicate_of")
    original = Case.objects.select_for_update().filter(pk=duplicate_of).only("id", "status").first()
    if original is None or original.status not in OPEN_STATUSES:
        raise ImpossibleTransition(
            f"duplicate_of: case {duplicate_of} is not an open case to merge into", field="duplicate_of"
        )
    return original


@dataclass(frozen=True)
class Outcome:
    """What one case of a bulk action came to: done (its new version and status) or why not."""

    case_id: int
    ok: bool
    version: int | None = None
    status: str = ""
    error: str = ""
    field: str | None = None


@transaction.atomic
def bulk_transition(
    *,
    action: str,
    selection: Sequence[tuple[int, int]],
    user,
    note: str = "",
    department: Department | None = None,
    now: datetime.datetime | None = None,
) -> list[Outcome]:
    """Take `action` on each (case id, version) of `selection`, each case checked on its own exactly as
    `transition` checks one (its own version, its own status, the user's right to it).

    A refusal is that case's outcome and the others go through: each case runs in its own savepoint,
    so a refused case leaves nothing half-written. A case the user may not see is reported as not
    found, as the API's 404 would. Outcomes come back in the selection's order.
    """
    if action not in TRANSITIONS:
        raise ImpossibleTransition(f"unknown action {action!r}; one of {', '.join(TRANSITIONS)}", field="action")
    limit = settings.GRIDGIS["BULK_MAX_CASES"]
    if not selection or len(selection) > limit:
        raise MissingInput(f"cases: select between 1 and {limit} cases", field="cases")
    ids = [case_id for case_id, _ in selection]
    seen = set(visible_cases(scope_for(user), Case.objects.all()).filter(pk__in=ids).values_list("pk", flat=True))
    outcomes = []
    for case_id, version in selection:
        if case_id not in seen:
            outcomes.append(Outcome(case_id, False, error=f"id: no case {case_id} among the cases you may see"))
            continue
        try:
            with transaction.atomic():
                moved = transition(
                    case_id=case_id,
                    action=action,
                    user=user,
                    version=version,
                    note=note,
                    department=department,
                    now=now,
                )
        except WorkflowError as exc:
            outcomes.append(Outcome(case_id, False, error=str(exc), field=exc.field))
        else:
            outcomes.append(Outcome(case_id, True, version=moved.version, status=moved.status))
    return outcomes


# The statuses in which the dispatcher may still correct a case's grid: before it is registered (the
# step that confirms the grid of a case near an edge).
REGRID_STATUSES = (Status.REPORTED, Status.CONFIRMING, Status.CONFIRMED)


@transaction.atomic
def change_grid(
    *, case_id: int, grid: Grid, user, version: int | None, note: str, now: datetime.datetime | None = None
) -> Case:
    """The dispatcher's answer to the edge flag: the point belongs to a neighbouring grid. Moves the
    case to `grid` (one of worklist.edge_alternatives), with the leader and officer on duty there
    (grids_on_duty, the grids layer's rule), the grid's version, the provenance saying the dispatcher
    chose it, and one trail entry with who, when, from and to. Needs a note (why)."""
    case = Case.objects.select_for_update(of=("self",)).select_related("grid").get(pk=case_id)
    if version is None:
        raise MissingInput("version: send the case's version to change it", field="version")
    if version != case.version:
        raise StaleVersion(f"version: the case is at version {case.version}, not {version}; reload it", field="version")
    if case.status not in REGRID_STATUSES:
        raise ImpossibleTransition(
            f"cannot change the grid of a case that is {case.status}; only before it is registered", field="status"
        )
    refusal = permissions.refusal(user, permissions.DISPATCHER, case)
    if refusal:
        raise NotAllowed(refusal)
    if not note.strip():
        raise MissingInput("note: say why the case belongs to the other grid", field="note")
    if grid.pk not in {g.pk for g, _ in edge_alternatives(case)}:
        raise MissingInput(f"grid: {grid.code} is not a grid next to the case's point", field="grid")
    now = now or timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(sql.ON_DUTY, {"code": grid.code, "today": timezone.localdate(now)})
        leader_id, officer_id, leader_grid, officer_grid = cursor.fetchone()
    data = {"grid": {"from": case.grid.code if case.grid else None, "to": grid.code}}
    case.grid, case.grid_version = grid, grid.version
    case.leader_id, case.officer_id = leader_id, officer_id
    case.near_edge = False  # the dispatcher has decided the edge question
    by = _actor_name(user)
    case.provenance = {
        **case.provenance,
        "grid": {"rule": "dispatcher", "code": grid.code, "level": grid.level_name, "version": grid.version, "by": by},
        "leader": {"rule": "duty", "grid": leader_grid} if leader_id else {"rule": "none"},
        "officer": {"rule": "duty", "grid": officer_grid} if officer_id else {"rule": "none"},
    }
    case.version += 1
    case.save()
    record_step(case, user=user, actor_name=by, now=now, action="regrid", from_status=case.status, note=note, data=data)
    return case


# --- Stage limits changed by an administrator, applied to the open cases ----------------------------------


@transaction.atomic
def apply_stage_limits(
    *, categories: Sequence[Category] | None = None, user=None, note: str = "", now: datetime.datetime | None = None
) -> int:
    """Give every open case of `categories` (and their minors, which may inherit; all categories when
    None) the deadline that its category's current limits give from when its stage started, in one
    statement (sql.APPLY_STAGE_LIMITS), each change a trail entry. Also after a calendar change, and
    once after upgrading a database with open cases from before the clocks: their stage start is taken
    from the trail, and their deadlines move onto the category's clocks. Returns how many cases changed."""
    now = now or timezone.now()
    chosen = Category.objects.select_related("parent")
    if categories is not None:
        ids = [c.pk for c in categories]
        chosen = chosen.filter(Q(pk__in=ids) | Q(parent_id__in=ids))
    rows = [
        (category.pk, status, category.limit_hours(stage) * 60, category.limit_clock(stage))
        for category in chosen
        for status, stage in STAGE_OF_STATUS.items()
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            sql.APPLY_STAGE_LIMITS,
            {
                "category_ids": [r[0] for r in rows],
                "statuses": [str(r[1]) for r in rows],
                "minutes": [r[2] for r in rows],
                "clocks": [r[3] for r in rows],
                "now": now,
                "actor_id": user.pk if user is not None else None,
                "actor_name": _actor_name(user),
                "note": note or "stage limits applied to open cases",
            },
        )
        return cursor.rowcount
