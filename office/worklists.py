"""The one layout of every office work list: what each list shows and offers, and the detail of a case.

A work list is a page of the layers' work-list selector (layers/incidents/worklist.py) for the
reader's scope, with the filters and the selected case taken from the URL, so a link can be shared
and the back button works. The dispatcher's console and the department inbox differ only in their
default statuses and in which workflow steps they offer (the role that takes them).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.core.exceptions import ValidationError
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from common import workcalendar
from common.text import is_ascii_number
from layers.accounts.roles import DISPATCHER, HANDLER
from layers.incidents import permissions, requests, worklist
from layers.incidents.models import CannedPhrase, Case, Status
from layers.incidents.services import REGRID_STATUSES, TRANSITIONS


@dataclass(frozen=True)
class ListKind:
    """One work list: its screen, its default statuses and the role whose steps it offers."""

    screen: str
    url_name: str
    default_statuses: tuple[str, ...]
    role: str
    bulk_actions: tuple[str, ...]


LISTS = {
    "dispatch": ListKind(
        "dispatch",
        "office-dispatch",
        (Status.REPORTED, Status.CONFIRMING, Status.CONFIRMED, Status.REGISTERED, Status.VERIFIED),
        DISPATCHER,
        ("register", "reject", "dispatch", "close", "send_to_confirm"),
    ),
    "inbox": ListKind("inbox", "office-inbox", (Status.DISPATCHED, Status.HANDLING), HANDLER, ("accept",)),
}

# The canned-phrase kind offered beside each step (or request, for "return") that takes a reason.
PHRASE_KIND = {
    "reject": CannedPhrase.Kind.REJECT,
    "return": CannedPhrase.Kind.RETURN,
    "fail": CannedPhrase.Kind.FAIL,
    "dispatch": CannedPhrase.Kind.DISPATCH,
}


def list_context(request, kind: ListKind, scope) -> dict:
    """The list half of a work-list page: filters (from the URL), one page of cases, counts, map data."""
    try:
        filters = worklist.parse_filter(request.GET, default_statuses=kind.default_statuses)
        after = worklist.Cursor.decode(request.GET["after"]) if request.GET.get("after") else None
    except ValidationError as exc:
        return {"filter_errors": exc.message_dict, "filters": worklist.WorkFilter(), "page": None}
    now = timezone.now()
    page = worklist.work_page(scope, filters, after=after, now=now)
    rows = [{"case": case, "time_left": worklist.time_left_of(case, now)} for case in page.cases]
    decided = requests.kinds_decided_by(request.user) if kind.role == DISPATCHER else []
    return {
        "pending_requests": worklist.pending_requests(scope, decided),
        "decides_requests": bool(decided),
        "calendar_missing_years": workcalendar.unentered_years([case.due_at for case in page.cases], now),
        "filters": filters,
        "page": page,
        "rows": rows,
        "counts": worklist.time_left_counts(scope, filters, now=now),
        "choices": worklist.filter_choices(),
        "selected_statuses": set(filters.statuses),
        "map_cases": {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "id": row["case"].pk,
                    "geometry": {"type": "Point", "coordinates": [row["case"].location.x, row["case"].location.y]},
                    "properties": {"time_left": row["time_left"], "version": row["case"].version},
                }
                for row in rows
            ],
        },
        "bulk_actions": kind.bulk_actions,
        "bulk_phrases": {action: list(worklist.canned_phrases(PHRASE_KIND[action])) for action in PHRASE_KIND},
        "after": request.GET.get("after", ""),
        "query_base": urlencode(filters.as_query(), doseq=True),
    }


def case_context(request, kind: ListKind | None, scope, case_id: str | None) -> dict:
    """The detail half: the selected case with everything a decision needs, and the steps on offer.
    An id the reader may not see answers 404 (as the API does)."""
    if not case_id:
        return {"case": None}
    if not is_ascii_number(case_id) or len(case_id) > 18:
        raise Http404("case: not a case id")
    case = worklist.case_for_work(scope, int(case_id))
    if case is None:
        raise Http404("case: no such case among the cases you may see")
    steps = []
    if kind is not None:
        for action, step in TRANSITIONS.items():
            # A merge needs the case it repeats: offered beside each likely duplicate instead.
            if step.role != kind.role or case.status not in step.sources or action == "merge":
                continue
            if permissions.refusal(request.user, step.role, case) is None:
                steps.append(action)
    pending = worklist.pending_request_of(case)
    askable = requests.kinds_askable(request.user, case) if kind is not None else []
    context = {
        "case": case,
        "time_left": worklist.time_left_of(case),
        "pending_request": pending,
        "can_decide": kind is not None and pending is not None and requests.may_decide(request.user, pending),
        "askable": askable,
        "can_resume": kind is not None
        and kind.role == DISPATCHER
        and case.status == Status.SUSPENDED
        and permissions.refusal(request.user, DISPATCHER, case) is None,
        "steps": steps,
        "photos": list(case.photos.all()),
        "trail": list(case.trail.all()),
        "provenance": _provenance_rows(case),
        "phrases": {
            action: list(worklist.canned_phrases(PHRASE_KIND[action]))
            for action in (*steps, *askable)
            if action in PHRASE_KIND
        },
        "can_merge": kind is not None and kind.role == DISPATCHER and case.status == Status.REPORTED,
        "can_unlink": kind is not None and kind.role == DISPATCHER,
    }
    if "dispatch" in steps:
        context["dispatch_choices"] = worklist.dispatch_choices(case)
    if kind is not None and kind.role == DISPATCHER and case.near_edge and case.status in REGRID_STATUSES:
        context["edge_alternatives"] = worklist.edge_alternatives(case)
    if kind is not None and kind.role == DISPATCHER:
        context["duplicates"] = worklist.likely_duplicates(case) if case.status == Status.REPORTED else []
        context["linked"] = list(worklist.linked_duplicates(case))
    if case.rework_count and case.status == Status.HANDLING:
        context["failed_check"], context["failed_photos"] = worklist.last_failed_check(case)
    return context


def _provenance_rows(case: Case) -> list[dict]:
    """Each party of the automatic assignment with the rule that chose it, for the 'why' table."""
    provenance = case.provenance or {}
    rows = []
    for party, value in (
        ("grid", case.grid),
        ("department", case.department),
        ("leader", case.leader),
        ("officer", case.officer),
    ):
        facts = provenance.get(party, {})
        detail = {k: v for k, v in facts.items() if k != "rule"}
        rows.append({"party": party, "value": value, "rule": facts.get("rule", ""), "detail": detail})
    return rows


def list_url(kind: ListKind) -> str:
    return reverse(kind.url_name)
