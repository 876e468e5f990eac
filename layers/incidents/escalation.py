"""The escalation ladder for late cases: rectify → expose → deduct points → hold to account.

一整改、二曝光、三扣分、四问责: a case past its current stage's due time climbs one rung when it is
`GRIDGIS["ESCALATION_HOURS"][rung]` hours late, in the clock of its stage's limit (working hours for a
working-time limit; layers/incidents/sql.py ESCALATE_ONE_RUNG). Supervision orders (督办) left
unanswered past their answer-by time climb the same ladder (`escalate_orders`). Each rung is one set-based statement that moves the
cases sitting on the rung below and writes their trail entries; rungs run from the lowest up, so a
case very late on its first run climbs every rung in order, each step recorded, none skipped. A rung
is never climbed twice (the UPDATE only takes cases on the rung below; a partial unique index on the
trail backs it), so `manage.py escalate` is safe to run every minute from cron, even twice at once.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from layers.incidents import notices, sql
from layers.incidents.models import OPEN_STATUSES, EscalationLevel


def thresholds() -> dict[int, float]:
    """Hours late at which each rung is reached, checked to increase with the rung."""
    hours = {int(k): float(v) for k, v in settings.GRIDGIS["ESCALATION_HOURS"].items()}
    rungs = [EscalationLevel.RECTIFY, EscalationLevel.EXPOSE, EscalationLevel.DEDUCT, EscalationLevel.ACCOUNT]
    if sorted(hours) != [int(r) for r in rungs]:
        raise ValueError("GRIDGIS ESCALATION_HOURS needs a threshold for each rung 1-4")
    values = [hours[int(r)] for r in rungs]
    if values != sorted(values):
        raise ValueError("GRIDGIS ESCALATION_HOURS must not decrease from one rung to the next")
    return hours


def _climb(statement: str, note, now: datetime.datetime, **params) -> dict[int, int]:
    """Run one rung's statement per rung, lowest first, in one transaction; how many climbed each."""
    climbed = {}
    with transaction.atomic():
        for level, hours in sorted(thresholds().items()):
            with connection.cursor() as cursor:
                cursor.execute(
                    statement, {"level": level, "hours": hours, "now": now, "note": note(level, hours), **params}
                )
                climbed[level] = cursor.rowcount
    return climbed


def escalate(now: datetime.datetime | None = None) -> dict[int, int]:
    """Move every late case up the ladder as far as it has earned; return how many climbed each rung.
    The leaders of the cases that climbed are told, one notice per leader and rung, in the same transaction."""
    now = now or timezone.now()
    with transaction.atomic():
        climbed = _climb(
            sql.ESCALATE_ONE_RUNG,
            lambda level, hours: f"{EscalationLevel(level).label}: {hours:g} h past the due time",
            now,
            open_statuses=list(OPEN_STATUSES),
        )
        if any(climbed.values()):
            notices.cases_escalated(now)
    return climbed


def escalate_orders(now: datetime.datetime | None = None) -> dict[int, int]:
    """Move every supervision order (督办) left unanswered past its answer-by time up the same ladder,
    one rung per threshold, each climb a trail entry on its case; return how many climbed each rung."""
    return _climb(
        sql.ESCALATE_SUPERVISION_RUNG,
        lambda level, hours: f"督办 unanswered: {EscalationLevel(level).label}, {hours:g} h past the answer-by time",
        now or timezone.now(),
    )
