"""The office screens: thin views over the layers' selectors; every change goes through the API.

Each work-list page renders whole (a shared link or the back button shows the same page) and in
parts: ?part=list or ?part=detail answers only that half, for the page's module to swap in without
reloading the map.
"""

from __future__ import annotations

import json

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from common.text import is_ascii_number
from layers.accounts.roles import request_scope, visible
from layers.audits import assessment as assessments
from layers.audits import dashboard
from layers.audits import selectors as audit_selectors
from layers.audits.models import Kind
from layers.estates import selectors as estate_selectors
from layers.estates.models import Batch
from layers.grids import selectors as grid_selectors
from office.access import SCREENS, forbidden, screen, screens_for
from office.worklists import LISTS, case_context, list_context


def home(request):
    """/office/: the first screen the reader's roles allow (signed out: sign in first)."""
    scope = request_scope(request)
    if scope.is_anonymous:
        return redirect_to_login(request.get_full_path())
    allowed = screens_for(scope)
    if not allowed:
        return forbidden(request)
    return redirect(SCREENS[allowed[0]].url_name)


def _work_screen(request, name: str):
    kind = LISTS[name]
    scope = request_scope(request)
    part = request.GET.get("part", "")
    context = {"kind": kind, "screen": name}
    if part in ("", "list"):
        context.update(list_context(request, kind, scope))
    if part in ("", "detail"):
        context.update(case_context(request, kind, scope, request.GET.get("case")))
    template = {"list": "office/_list.html", "detail": "office/_detail.html"}.get(part, "office/worklist.html")
    status = 400 if context.get("filter_errors") else 200
    return render(request, template, context, status=status)


@screen("dispatch")
def dispatch(request):
    """The dispatcher's console (受理 / 派遣 / 结案): new reports, registered cases, checked fixes."""
    return _work_screen(request, "dispatch")


@screen("inbox")
def inbox(request):
    """A department's inbox (专业部门处置): cases dispatched to it and in hand."""
    return _work_screen(request, "inbox")


def _dashboard_context(request):
    scope = request_scope(request)
    code = request.GET.get("grid", "")
    roots = dashboard.area_roots(scope)
    if code:
        area = dashboard.visible_area(scope, code) if is_ascii_number(code) else None
        if area is None:
            raise Http404("grid: no such area among the grids you may see")
    elif len(roots) == 1:
        area = roots[0]
    else:
        area = None
    context = {"roots": roots, "area": area}
    if area is not None:
        context["overview"] = dashboard.overview(scope, area)
        context["trail_up"] = grid_selectors.ancestors_of(area)
    context.update(case_context(request, None, scope, request.GET.get("case")))
    return context


@screen("dashboard")
def dashboard_view(request):
    """A leader's area at a glance, drilling down from community to grid to case."""
    return render(request, "office/dashboard.html", _dashboard_context(request))


@screen("wall")
def wall(request):
    """The same figures for a command-centre wall: big type, refreshing by itself."""
    template = "office/_wall_figures.html" if request.GET.get("part") == "figures" else "office/wall.html"
    return render(request, template, {**_dashboard_context(request), "now": timezone.now()})


@screen("audits")
def audits(request):
    """Coverage audits: start one, watch its progress, read its findings on the map and in a list."""
    runs = list(audit_selectors.runs()[:20])
    selected = None
    run_id = request.GET.get("run", "")
    if run_id:
        selected = next((r for r in runs if str(r.pk) == run_id), None) or (
            audit_selectors.runs().filter(pk=run_id).first() if is_ascii_number(run_id) else None
        )
        if selected is None:
            raise Http404("run: no such audit run")
    elif runs:
        selected = runs[0]
    context = {
        "runs": runs,
        "selected": selected,
        "kinds": Kind.choices,
        "districts": grid_selectors.districts(),
    }
    if selected is not None:
        kind = request.GET.get("kind") or None
        context["kind"] = kind
        context["findings"] = list(audit_selectors.findings_for_ledger(selected, kind=kind)[:500])
        context["findings_geojson"] = audit_selectors.findings_geojson(selected, kind=kind)
    return render(request, "office/audits.html", context)


def _assessment(request):
    today = timezone.localdate()
    period = request.GET.get("period") or dashboard.quarter_of(today)
    unit = request.GET.get("unit") or "grid"
    district = request.GET.get("district", "")
    try:
        table = assessments.assess(period=period, unit=unit, district_code=district)
    except DjangoValidationError as exc:
        return {"errors": exc.message_dict, "period": period, "unit": unit, "district": district, **_choices()}, 400
    ranked = sorted((r for r in table.rows if r["ranked"]), key=lambda r: (r["rank"], r["unit_code"] or ""))
    unranked = sorted((r for r in table.rows if not r["ranked"]), key=lambda r: (-r["received"], r["unit_code"] or ""))
    return {
        "table": table,
        "ranked": ranked,
        "unranked": unranked,
        "period": table.period.label,
        "unit": unit,
        "district": district,
        **_choices(),
    }, 200


UNIT_LABELS = {"grid": _("Grid"), "department": _("Handling department"), "leader": _("Leader")}


def _choices() -> dict:
    return {
        "unit_choices": [(unit, UNIT_LABELS[unit]) for unit in assessments.UNITS],
        "districts": grid_selectors.districts(),
    }


@screen("assessment")
def assessment(request):
    """The quarterly assessment for a period and a unit: ranked table, units under the minimum sample apart."""
    context, status = _assessment(request)
    return render(request, "office/assessment.html", context, status=status)


@screen("assessment")
def notice(request):
    """The notice sheet (通报) of the worst ranked units, as a printable page."""
    context, status = _assessment(request)
    return render(request, "office/notice.html", context, status=status)


@screen("planning")
def planning(request):
    """Draw or edit a renovation footprint, see what it touches, save it to a project."""
    scope = request_scope(request)
    projects = list(visible("project", estate_selectors.projects_list(), scope).order_by("name", "id"))
    selected = None
    project_id = request.GET.get("project", "")
    if project_id:
        selected = next((p for p in projects if str(p.pk) == project_id), None)
        if selected is None:
            raise Http404("project: no such project among the projects you may see")
    context = {
        "projects": projects,
        "selected": selected,
        "batches": Batch.choices,
        "footprint": json.loads(selected.footprint.geojson) if selected is not None else None,
    }
    return render(request, "office/planning.html", context)
