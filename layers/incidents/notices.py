"""Who learns of which work, through common.notifications (inbox now; e-mail and webhooks from the outbox).

- the handler's department, when a case is dispatched to it, or a supervision order is made on its case;
- the officers on duty for the case's grid (or an ancestor), when a fixed case waits for their check;
- the dispatchers (the duty chiefs for a void), when a request waits for a decision;
- the one who ordered a supervision, when the department replies;
- the responsible leader, when cases in their area climb a rung (one notice per leader and rung).

Each is called inside the transaction of the change, so the notice and the change commit together.
"""

from __future__ import annotations

import datetime

from django.contrib.auth import get_user_model
from django.db.models import Count
from django.utils import timezone

from common import notifications
from common.scopes import DISPATCHER
from layers.grids.models import Duty, DutyKind, Person
from layers.incidents import permissions
from layers.incidents.models import Case, ClockRequest, EscalationLevel, SupervisionOrder, TrailEntry


def _department_users(case: Case):
    if case.department_id is None:
        return []
    return [
        p.user
        for p in Person.objects.filter(department_id=case.department_id, user__isnull=False).select_related("user")
    ]


def case_dispatched(case: Case, now: datetime.datetime) -> int:
    return notifications.notify(
        users=_department_users(case),
        kind="case_dispatched",
        subject=f"案件 {case.pk} 已派遣至本单位 / case {case.pk} dispatched to you",
        body=f"{case.category.name_zh} {case.address} — due {timezone.localtime(case.due_at):%Y-%m-%d %H:%M}"
        if case.due_at
        else case.category.name_zh,
        data={"case": case.pk, "due_at": case.due_at.isoformat() if case.due_at else None},
        now=now,
    )


def case_awaits_check(case: Case, now: datetime.datetime) -> int:
    if case.grid is None:
        return 0
    duties = (
        Duty.objects.active(timezone.localdate(now))
        .filter(kind=DutyKind.OFFICER, grid__code__in=case.grid.ancestor_codes(), person__user__isnull=False)
        .select_related("person__user")
    )
    return notifications.notify(
        users=[duty.person.user for duty in duties],
        kind="case_awaits_check",
        subject=f"案件 {case.pk} 已处置，待核查 / case {case.pk} waits for your check",
        data={"case": case.pk},
        now=now,
    )


def request_awaits_decision(request: ClockRequest, now: datetime.datetime) -> int:
    group = permissions.DUTY_CHIEF if request.kind == ClockRequest.Kind.VOID else DISPATCHER
    deciders = get_user_model().objects.filter(groups__name=group, is_active=True).exclude(pk=request.asked_by_id)
    return notifications.notify(
        users=list(deciders),
        kind="request_awaits_decision",
        subject=f"案件 {request.case_id}: {request.get_kind_display()} 待审批 / waits for your decision",
        body=request.reason,
        data={"case": request.case_id, "request": request.pk, "kind": request.kind},
        now=now,
    )


def supervision_ordered(order: SupervisionOrder, now: datetime.datetime) -> int:
    return notifications.notify(
        users=_department_users(order.case),
        kind="supervision_ordered",
        subject=f"督办: 案件 {order.case_id}, 限 {timezone.localtime(order.answer_by):%Y-%m-%d %H:%M} 前答复",
        body=order.note,
        data={"case": order.case_id, "order": order.pk},
        now=now,
    )


def supervision_replied(order: SupervisionOrder, now: datetime.datetime) -> int:
    return notifications.notify(
        users=[order.ordered_by],
        kind="supervision_replied",
        subject=f"督办答复: 案件 {order.case_id}",
        body=order.reply,
        data={"case": order.case_id, "order": order.pk},
        now=now,
    )


def cases_escalated(now: datetime.datetime) -> int:
    """One notice per leader and rung for the cases that climbed in the escalation run at `now`."""
    # Read once: the users' lookup and the loop below both need the rows.
    climbs = list(
        TrailEntry.objects.filter(action="escalate", at=now, case__leader__user__isnull=False)
        .values("case__leader__user", "escalation_level")
        .annotate(cases=Count("case"))
        .order_by("case__leader__user", "escalation_level")
    )
    users = get_user_model().objects.in_bulk([row["case__leader__user"] for row in climbs])
    sent = 0
    for row in climbs:
        level = EscalationLevel(row["escalation_level"])
        sent += notifications.notify(
            users=[users[row["case__leader__user"]]],
            kind="cases_escalated",
            subject=f"{row['cases']} 件案件升至{level.label} / {row['cases']} cases in your area climbed a rung",
            data={"level": int(level), "cases": row["cases"]},
            now=now,
        )
    return sent
