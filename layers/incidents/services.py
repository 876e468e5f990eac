"""Writes of the incidents layer: intake of a report, and every step of the seven-stage workflow."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.gis.geos import Point
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from common import workcalendar
from layers.grids.models import Department, Person
from layers.incidents import notices, permissions, sql
from layers.incidents.models import STAGE_OF_STATUS, Case, Category, Photo, Source, Status, TrailEntry
from layers.incidents.photos import CheckedPhoto
from layers.incidents.selectors import intake_facts

STAGES = ("register", "dispatch", "handle", "verify")


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


def final_due_after(category: Category, start: datetime.datetime) -> datetime.datetime:
    """The deadline to close a case reported at `start`: every stage's limit, one after the other."""
    return workcalendar.due_after_stages(
        start, [(category.limit_hours(stage) * 60, category.limit_clock(stage)) for stage in STAGES]
    )


def _save_photos(case: Case, photos: Sequence[CheckedPhoto], kind: str) -> list[Photo]:
    saved = []
    for index, checked in enumerate(photos):
        photo = Photo(case=case, kind=kind, width=checked.width, height=checked.height)
        photo.image.save(f"case{case.pk}-{kind}-{index}.{checked.extension}", checked.file, save=True)
        saved.append(photo)
    return saved


def _actor_name(user) -> str:
    if user is None:
        return "system"
    person = getattr(user, "person", None)
    return person.name if person else user.get_username()


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
    now: datetime.datetime | None = None,
) -> tuple[Case, bool]:
    """Take a report: assign it in this transaction, link it as a duplicate or start its workflow.

    Returns (case, True): the flag stays for the callers that unpack it, from when this service also
    answered replays. `idempotency_key` is only recorded on the case: replays are answered before this is called, by
    common/idempotency.py, per client (a key is not unique across clients).
    """
    now = now or timezone.now()
    assignment, original = intake_facts(point, category, now)
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
        due_at=None if original else due_after(category, Status.REPORTED, now),
        due_clock="" if original else stage_clock(category, Status.REPORTED),
        stage_started_at=None if original else now,
        final_due_at=final_due_after(category, now),
    )
    case.save()
    saved = _save_photos(case, photos, Photo.Kind.REPORT)
    note = f"me too: linked to case {original.pk}" if original else ""
    TrailEntry.objects.create(
        case=case,
        at=now,
        actor=reporter,
        # The actor is who sent the report: a signed-in user by their account, anyone else by the
        # source alone; a reporter_name in the body is a contact, never the actor.
        actor_name=_actor_name(reporter) if reporter else source,
        action="report",
        from_status="",
        to_status=case.status,
        note=note,
        photo=saved[0] if saved else None,
    )
    if original is not None:
        # Not the version: anyone may say "me too", and bumping the optimistic lock would make the
        # staff's next step on the original fail with 409.
        Case.objects.filter(pk=original.pk).update(me_too_count=F("me_too_count") + 1)
        TrailEntry.objects.create(
            case=original,
            at=now,
            actor=reporter,
            actor_name="system",
            action="me_too",
            from_status=original.status,
            to_status=original.status,
            note=f"case {case.pk} reported the same problem",
            data={"duplicate": case.pk},
        )
    # The clock facts the intake answer shows (as case_queryset() annotates them), read inside this
    # transaction: the answer then needs no query after the commit, so a database lost just after it
    # cannot turn a stored case into a 5xx.
    case.time_left_s, case.deadline_on_calendar = workcalendar.clock_facts(
        now, case.stage_started_at, case.due_at, case.due_clock
    )
    return case, True


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
        Transition("register", (Status.REPORTED,), Status.REGISTERED, permissions.DISPATCHER),
        Transition("reject", (Status.REPORTED,), Status.REJECTED, permissions.DISPATCHER, needs_note=True),
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
    )
}


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
    case = Case.objects.select_for_update(of=("self",)).select_related("category__parent", "grid").get(pk=case_id)
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
    person: Person | None = getattr(user, "person", None)
    if action == "verify" and case.handled_by_id is not None and person is not None and person.pk == case.handled_by_id:
        raise NotAllowed("the person who handled the fix cannot verify it")

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
    case.status = step.target
    case.due_at = due_after(case.category, step.target, now)
    case.due_clock = stage_clock(case.category, step.target)
    case.stage_started_at = now if case.due_at else None
    case.version += 1
    case.save()
    saved = (
        _save_photos(case, [photo], Photo.Kind.AFTER if action == "handle" else Photo.Kind.VERIFY)
        if photo is not None
        else []
    )
    TrailEntry.objects.create(
        case=case,
        at=now,
        actor=user,
        actor_name=_actor_name(user),
        action=action,
        from_status=from_status,
        to_status=case.status,
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


# --- Stage limits changed by an administrator, applied to the open cases ----------------------------------


@transaction.atomic
def apply_stage_limits(
    *, categories: Sequence[Category] | None = None, user=None, note: str = "", now: datetime.datetime | None = None
) -> int:
    """Give every open case of `categories` (and their minors, which may inherit; all categories when
    None) the deadline that its category's current limits give from when its stage started, in one
    statement (sql.APPLY_STAGE_LIMITS), each change a trail entry. Also after a calendar change.
    Returns how many cases changed."""
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
