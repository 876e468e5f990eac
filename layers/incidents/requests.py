"""Requests that change a case's clock, each decided by someone else, and supervision orders.

- extension (延期): the handler asks for more time with a reason (and the due time wanted); the
  dispatcher approves with a new due time, or refuses. At most GRIDGIS["MAX_EXTENSIONS"] per case.
- return (回退): the handler asks to hand the case back (not its department's); on the dispatcher's
  approval it goes back to registered, to be dispatched again.
- suspension (挂账): the handler asks, with a reason and a review date, for a case that cannot be solved
  soon (budget, a court, a season); on the dispatcher's approval its clock stops (the time left is
  kept), it leaves the open and overdue lists and appears in the suspended list; `review_suspensions`
  flags it when the review date comes, and the dispatcher resumes it (`resume_case`): its clock runs
  again with the time it had left.
- void (作废): the dispatcher asks to void a report (a duplicate, out of scope, abusive); the duty chief
  (group "duty_chief") approves. The case stays with its whole trail; statistics count it as voided.
- supervision order (督办): a leader or supervisor orders a case handled by a date with a note; the
  case's department replies; an order without a reply in time climbs the escalation ladder like a late
  case (layers/incidents/escalation.py).

Every request, decision and order is a trail entry (who, when, reason). The checks follow
services.transition: the version first (StaleVersion), then the status (ImpossibleTransition, 409),
the role (NotAllowed, 403), the inputs (MissingInput, 400). One request at a time per case.
"""

from __future__ import annotations

import datetime
import math

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from common import workcalendar
from layers.incidents import notices, permissions, sql
from layers.incidents.models import (
    OPEN_STATUSES,
    STAGE_OF_STATUS,
    Case,
    ClockRequest,
    Status,
    SupervisionOrder,
)
from layers.incidents.services import (
    ImpossibleTransition,
    MissingInput,
    NotAllowed,
    StaleVersion,
    _actor_name,
    due_after,
    record_step,
    stage_clock,
)

Kind = ClockRequest.Kind

# Which statuses a request may be asked in, who asks and who decides.
ASKED_IN = {
    Kind.EXTENSION: (Status.DISPATCHED, Status.HANDLING),
    Kind.RETURN: (Status.DISPATCHED, Status.HANDLING),
    Kind.SUSPENSION: (Status.DISPATCHED, Status.HANDLING),
    Kind.VOID: OPEN_STATUSES,
}
ASKER = {
    Kind.EXTENSION: permissions.HANDLER,
    Kind.RETURN: permissions.HANDLER,
    Kind.SUSPENSION: permissions.HANDLER,
    Kind.VOID: permissions.DISPATCHER,
}
DECIDER = {
    Kind.EXTENSION: permissions.DISPATCHER,
    Kind.RETURN: permissions.DISPATCHER,
    Kind.SUSPENSION: permissions.DISPATCHER,
    Kind.VOID: permissions.DUTY_CHIEF,
}


def kinds_decided_by(user) -> list[str]:
    """The kinds of request `user` may decide, for the deciders' queue on the screens (the deciders'
    roles, dispatcher and duty chief, do not depend on the case). Each role is asked once: a question
    works out the user's scope again, and three kinds share the dispatcher."""
    may = {role: permissions.refusal(user, role, None) is None for role in set(DECIDER.values())}
    return [kind for kind, role in DECIDER.items() if may[role]]


def kinds_askable(user, case: Case) -> list[str]:
    """The kinds of request `user` may ask on `case` now (its status, their role, none pending), as
    ask() would accept them; the screens offer these."""
    if case.clock_requests.filter(state=ClockRequest.State.PENDING).exists():
        return []
    return [
        kind
        for kind in Kind.values
        if case.status in ASKED_IN[kind]
        and permissions.refusal(user, ASKER[kind], case) is None
        and not (kind == Kind.EXTENSION and case.extension_count >= settings.GRIDGIS["MAX_EXTENSIONS"])
    ]


def may_decide(user, request: ClockRequest) -> bool:
    """Whether `user` may decide `request` (its kind's decider, and not the person who asked)."""
    if request.asked_by_id is not None and request.asked_by_id == getattr(user, "pk", None):
        return False
    return permissions.refusal(user, DECIDER[request.kind], request.case) is None


def _locked_case(case_id: int, version: int | None) -> Case:
    case = Case.objects.select_for_update(of=("self",)).select_related("category__parent", "grid").get(pk=case_id)
    if version is None:
        raise MissingInput("version: send the case's version (or an If-Match header) to change it", field="version")
    if version != case.version:
        raise StaleVersion(f"version: the case is at version {case.version}, not {version}; reload it", field="version")
    return case


def _set_stage_clock(case: Case, *, status: str, due_at: datetime.datetime) -> None:
    """Put `case` in `status` due at `due_at`, dating its stage's start so that the stage limit from there
    gives `due_at` (an extension or a suspension is kept when an administrator re-applies limits)."""
    stage = STAGE_OF_STATUS[status]
    clock = case.category.limit_clock(stage)
    case.status, case.due_at, case.due_clock = status, due_at, clock
    case.stage_started_at = workcalendar.back(due_at, case.category.limit_hours(stage) * 60, clock)


@transaction.atomic
def ask(
    *,
    case_id: int,
    kind: str,
    user,
    version: int | None,
    reason: str,
    wanted_due_at: datetime.datetime | None = None,
    review_on: datetime.date | None = None,
    now: datetime.datetime | None = None,
) -> ClockRequest:
    """File a request of `kind` on a case, as `user`; the case waits for the decider's approval."""
    if kind not in Kind.values:
        raise MissingInput(f"kind: one of {', '.join(Kind.values)}, not {kind!r}", field="kind")
    case = _locked_case(case_id, version)
    now = now or timezone.now()
    if case.status not in ASKED_IN[kind]:
        raise ImpossibleTransition(
            f"cannot ask for {kind} on a case that is {case.status}; it needs status {' or '.join(ASKED_IN[kind])}",
            field="status",
        )
    pending = case.clock_requests.filter(state=ClockRequest.State.PENDING).first()
    if pending is not None:
        raise ImpossibleTransition(
            f"case {case.pk} already has a pending {pending.kind} request ({pending.pk}); wait for its decision",
            field="status",
        )
    if kind == Kind.EXTENSION and case.extension_count >= settings.GRIDGIS["MAX_EXTENSIONS"]:
        raise ImpossibleTransition(
            f"case {case.pk} has had {case.extension_count} extensions, the most GRIDGIS MAX_EXTENSIONS allows",
            field="status",
        )
    refusal = permissions.refusal(user, ASKER[kind], case)
    if refusal:
        raise NotAllowed(refusal)
    if not reason.strip():
        raise MissingInput(f"reason: a {kind} request needs a reason", field="reason")
    if kind == Kind.EXTENSION and wanted_due_at is not None and case.due_at and wanted_due_at <= case.due_at:
        raise MissingInput("wanted_due_at: must be later than the case's due time", field="wanted_due_at")
    if kind == Kind.SUSPENSION:
        if review_on is None:
            raise MissingInput("review_on: a suspension needs a review date", field="review_on")
        if review_on <= timezone.localdate(now):
            raise MissingInput("review_on: must be after today", field="review_on")
    request = ClockRequest.objects.create(
        case=case,
        kind=kind,
        reason=reason,
        asked_by=user,
        asked_by_name=_actor_name(user),
        asked_at=now,
        wanted_due_at=wanted_due_at if kind == Kind.EXTENSION else None,
        review_on=review_on if kind == Kind.SUSPENSION else None,
    )
    case.version += 1
    case.save(update_fields=["version", "updated_at"])
    data = {"request": request.pk, "kind": kind}
    if request.wanted_due_at:
        data["wanted_due_at"] = request.wanted_due_at.isoformat()
    if request.review_on:
        data["review_on"] = request.review_on.isoformat()
    record_step(case, user=user, now=now, action=f"ask_{kind}", from_status=case.status, note=reason, data=data)
    notices.request_awaits_decision(request, now)
    return request


@transaction.atomic
def decide(
    *,
    request_id: int,
    approve: bool,
    user,
    version: int | None,
    note: str = "",
    due_at: datetime.datetime | None = None,
    now: datetime.datetime | None = None,
) -> ClockRequest:
    """Approve or refuse a pending request, as its decider; approval applies it to the case."""
    request = ClockRequest.objects.select_for_update().get(pk=request_id)
    case = _locked_case(request.case_id, version)
    now = now or timezone.now()
    if request.state != ClockRequest.State.PENDING:
        raise ImpossibleTransition(f"request {request.pk} was already {request.state}", field="state")
    if approve and case.status not in ASKED_IN[request.kind]:
        raise ImpossibleTransition(f"cannot approve {request.kind}: the case is now {case.status}", field="status")
    refusal = permissions.refusal(user, DECIDER[request.kind], case)
    if refusal:
        raise NotAllowed(refusal)
    if request.asked_by_id is not None and request.asked_by_id == getattr(user, "pk", None):
        raise NotAllowed("a request is decided by someone other than the person who asked")
    if not approve and not note.strip():
        raise MissingInput("note: say why the request is refused", field="note")
    from_status = case.status
    data = {"request": request.pk, "kind": request.kind}
    if approve:
        if request.kind == Kind.EXTENSION:
            granted = due_at or request.wanted_due_at
            if granted is None:
                raise MissingInput("due_at: approve an extension with the new due time", field="due_at")
            if case.due_at and granted <= case.due_at:
                raise MissingInput("due_at: must be later than the case's due time", field="due_at")
            data["due_at"] = {"from": case.due_at.isoformat() if case.due_at else None, "to": granted.isoformat()}
            _set_stage_clock(case, status=case.status, due_at=granted)
            case.extension_count += 1
            request.granted_due_at = granted
            data["extension_count"] = case.extension_count
        elif request.kind == Kind.RETURN:
            data["returned_by"] = case.department.code if case.department else None
            case.status = Status.REGISTERED
            case.due_at = due_after(case.category, Status.REGISTERED, now)
            case.due_clock = stage_clock(case.category, Status.REGISTERED)
            case.stage_started_at = now
        elif request.kind == Kind.SUSPENSION:
            left, _ = workcalendar.clock_facts(now, case.stage_started_at, case.due_at, case.due_clock)
            final_left, _ = workcalendar.clock_facts(now, None, case.final_due_at, case.due_clock)
            case.suspended_from = case.status
            case.suspended_left_s, case.suspended_final_left_s = left, final_left
            case.review_on = request.review_on
            case.status = Status.SUSPENDED
            case.due_at = None
            data.update(left_seconds=left, clock=case.due_clock, review_on=request.review_on.isoformat())
        elif request.kind == Kind.VOID:
            case.status = Status.VOIDED
            case.due_at = None
            case.closed_at = now
    request.state = ClockRequest.State.APPROVED if approve else ClockRequest.State.REFUSED
    request.decided_by, request.decided_by_name, request.decided_at = user, _actor_name(user), now
    request.decision_note = note
    request.save()
    case.version += 1
    case.save()
    action = f"{'approve' if approve else 'refuse'}_{request.kind}"
    record_step(
        case, user=user, now=now, action=action, from_status=from_status, note=note or request.reason, data=data
    )
    return request


@transaction.atomic
def resume_case(*, case_id: int, user, version: int | None, note: str = "", now=None) -> Case:
    """End a suspension: the case goes back to its status with the time it had left when it stopped."""
    case = _locked_case(case_id, version)
    now = now or timezone.now()
    if case.status != Status.SUSPENDED:
        raise ImpossibleTransition(f"cannot resume a case that is {case.status}; it is not suspended", field="status")
    refusal = permissions.refusal(user, permissions.DISPATCHER, case)
    if refusal:
        raise NotAllowed(refusal)
    status = case.suspended_from or Status.HANDLING
    clock = stage_clock(case.category, status)
    left_minutes = max(0, math.ceil((case.suspended_left_s or 0) / 60))
    due = workcalendar.due(now, left_minutes, clock)
    _set_stage_clock(case, status=status, due_at=due)
    if case.suspended_final_left_s is not None:
        # The deadline to close moves by the suspension too (the assessment's on-time rate reads it).
        case.final_due_at = workcalendar.due(now, max(0, math.ceil(case.suspended_final_left_s / 60)), clock)
    data = {"left_minutes": left_minutes, "clock": clock, "due_at": due.isoformat()}
    case.suspended_from, case.review_on = "", None
    case.suspended_left_s = case.suspended_final_left_s = None
    case.version += 1
    case.save()
    record_step(case, user=user, now=now, action="resume", from_status=Status.SUSPENDED, note=note, data=data)
    return case


def review_suspensions(now: datetime.datetime | None = None) -> int:
    """Write a 'review_due' trail entry on every suspended case whose review date has come and that has
    none since it was suspended (set-based, idempotent; for cron with `manage.py escalate`)."""
    now = now or timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql.REVIEW_SUSPENSIONS, {"now": now, "today": timezone.localdate(now)})
        return cursor.rowcount


# --- Supervision orders (督办) ---------------------------------------------------------------------------


@transaction.atomic
def order_supervision(
    *, case_id: int, user, version: int | None, answer_by: datetime.datetime, note: str, now=None
) -> SupervisionOrder:
    """A leader or supervisor orders the case handled by `answer_by`, with a note."""
    case = _locked_case(case_id, version)
    now = now or timezone.now()
    if case.status not in OPEN_STATUSES:
        raise ImpossibleTransition(f"cannot supervise a case that is {case.status}; it is not open", field="status")
    refusal = permissions.refusal(user, permissions.SUPERVISING, case)
    if refusal:
        raise NotAllowed(refusal)
    if not note.strip():
        raise MissingInput("note: say what is ordered", field="note")
    if answer_by <= now:
        raise MissingInput("answer_by: must be in the future", field="answer_by")
    order = SupervisionOrder.objects.create(
        case=case, ordered_by=user, ordered_by_name=_actor_name(user), ordered_at=now, answer_by=answer_by, note=note
    )
    case.version += 1
    case.save(update_fields=["version", "updated_at"])
    data = {"order": order.pk, "answer_by": answer_by.isoformat()}
    record_step(case, user=user, now=now, action="supervise", from_status=case.status, note=note, data=data)
    notices.supervision_ordered(order, now)
    return order


@transaction.atomic
def reply_supervision(*, order_id: int, user, reply: str, now=None) -> SupervisionOrder:
    """The case's department answers a supervision order."""
    order = SupervisionOrder.objects.select_for_update(of=("self",)).select_related("case__grid").get(pk=order_id)
    now = now or timezone.now()
    if order.replied_at is not None:
        raise ImpossibleTransition(f"order {order.pk} was answered on {order.replied_at:%Y-%m-%d %H:%M}", field="state")
    refusal = permissions.refusal(user, permissions.HANDLER, order.case)
    if refusal:
        raise NotAllowed(refusal)
    if not reply.strip():
        raise MissingInput("reply: say what was done", field="reply")
    order.reply, order.replied_by, order.replied_by_name, order.replied_at = reply, user, _actor_name(user), now
    order.save()
    case = order.case
    data = {"order": order.pk, "late": now > order.answer_by}
    record_step(case, user=user, now=now, action="reply_supervision", from_status=case.status, note=reply, data=data)
    notices.supervision_replied(order, now)
    return order
