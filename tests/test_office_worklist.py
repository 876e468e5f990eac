"""The office's reads and writes in the layers: work-list filters and keyset pages, bulk steps (each case
on its own), merge as "me too", dispatch elsewhere with a reason, canned phrases, the leader's dashboard."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from layers.accounts.roles import scope_for
from layers.audits import dashboard
from layers.grids.models import DutyKind
from layers.incidents import services, worklist
from layers.incidents.bulk import generate_cases
from layers.incidents.models import OPEN_STATUSES, CannedPhrase, Case, Status
from layers.incidents.selectors import overdue_by_level, visible_cases
from layers.incidents.services import LIMITED_STAGES
from tests.factories import (
    make_person_on_duty,
    tree_with_departments,
)
from tests.factories_incidents import make_category, make_user, report_at

pytestmark = pytest.mark.django_db
NOW = timezone.make_aware(datetime.datetime(2026, 11, 20, 10, 0))


def report(category, lon, lat, *, at=NOW, text=""):
    return report_at(category, lon, lat, description=text, now=at)


@pytest.fixture
def world():
    grids = tree_with_departments()
    cgj, water = grids["cgj"], grids["water"]
    # On the clock, so that the hours below are plain hours (the lists on working time, and time left
    # in working hours on the screens, are in test_incidents_clocks.py and test_office_screens.py).
    on_the_clock = {f"{stage}_clock": "clock" for stage in LIMITED_STAGES}
    rubbish = make_category("0101", default_department=cgj, register_hours=2, **on_the_clock)
    parking = make_category("0401", default_department=water, register_hours=2, **on_the_clock)
    make_person_on_duty(grids["g1"], DutyKind.OFFICER, "网格员")
    leader = make_person_on_duty(grids["c1"], DutyKind.LEADER, "包片领导")
    users = {
        "dispatcher": make_user("dispatcher", name="调度员"),
        "handler": make_user(department=cgj, name="城管队员"),
        "leader": make_user(person=leader),
        "supervisor": make_user("supervisor", name="督查"),
    }
    return {"grids": grids, "cgj": cgj, "water": water, "rubbish": rubbish, "parking": parking, "users": users}


def scope(world, who):
    return scope_for(world["users"][who])


def test_filters_select_by_status_category_grid_department_time_left_and_text(world):
    # Reported at NOW - 3 h with a 2 h register limit: overdue. NOW - 30 min: due in 1.5 h, "due soon"
    # (within DUE_SOON_HOURS = 4). A parking case reported now in the east street: due in 2 h, soon too.
    late = report(world["rubbish"], 105.41, 28.93, at=NOW - datetime.timedelta(hours=3), text="垃圾堆 北门")
    soon = report(world["rubbish"], 105.43, 28.91, at=NOW - datetime.timedelta(minutes=30), text="垃圾桶满")
    east = report(world["parking"], 105.47, 28.88, at=NOW, text="乱停车")
    everyone = scope(world, "dispatcher")

    def ids(**params):
        filters = worklist.parse_filter({k: v if isinstance(v, list) else [v] for k, v in params.items()})
        return [c.pk for c in worklist.work_page(everyone, filters, now=NOW).cases]

    assert ids() == [late.pk, soon.pk, east.pk]  # by time left: the earliest deadline first
    assert ids(time_left="overdue") == [late.pk]
    assert ids(time_left="due_soon") == [soon.pk, east.pk]
    assert ids(time_left="on_time") == []
    assert ids(category="01") == [late.pk, soon.pk]  # a major selects its minors
    assert ids(grid="510502001001001") == [late.pk]  # grid g1's subtree (lon < 105.42)
    assert ids(grid="510502001") == [late.pk, soon.pk]  # the west street
    assert ids(department="JY-SW") == [east.pk]
    assert ids(text="北门") == [late.pk] and ids(text=str(east.pk)) == [east.pk]
    assert ids(status="registered") == []
    counts = worklist.time_left_counts(everyone, worklist.parse_filter({}), now=NOW)
    assert counts == {"overdue": 1, "due_soon": 2, "on_time": 0, "total": 3}


@pytest.mark.parametrize(
    "params, field",
    [({"status": ["nonsense"]}, "status"), ({"time_left": ["tomorrow"]}, "time_left"), ({"grid": ["51a"]}, "grid")],
)
def test_a_bad_filter_is_refused_naming_the_parameter(params, field):
    with pytest.raises(ValidationError) as refused:
        worklist.parse_filter(params)
    assert field in refused.value.message_dict


def test_keyset_pages_walk_the_whole_queue_once_in_order(world):
    cases = [
        report(world["rubbish"], 105.401 + 0.0005 * i, 28.901, at=NOW - datetime.timedelta(minutes=i % 4))
        for i in range(11)
    ]
    # Three without a due time: they come last, and a page ends inside the dated cases before them.
    Case.objects.filter(pk__in=[c.pk for c in cases[:3]]).update(due_at=None)
    everyone = scope(world, "dispatcher")
    seen, cursor = [], None
    while True:
        page = worklist.work_page(everyone, worklist.WorkFilter(), after=cursor, size=4, now=NOW)
        seen.extend(page.cases)
        cursor = page.next and worklist.Cursor.decode(page.next.encode())
        if cursor is None:
            break
    assert sorted(c.pk for c in seen) == sorted(c.pk for c in cases) and len(seen) == 11
    in_order = sorted(seen, key=lambda c: (c.due_at is None, c.due_at or NOW, c.pk))
    assert [c.pk for c in seen] == [c.pk for c in in_order]
    assert [c.due_at for c in seen[-3:]] == [None, None, None]


def _plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE incidents_case")
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)  # noqa: S608 - Django's own compiled query
        return "\n".join(row[0] for row in cursor.fetchall())


def test_a_page_of_a_10000_case_queue_reads_a_page_of_the_index_not_the_queue(world):
    # 13,000 cases reported over the last day (bulk.generate_cases, set-based): young cases are spread
    # over every stage, so most are open. The page query must walk the partial index on open cases in
    # (due_at, id) order and stop after a page, for the whole queue and for one department's inbox.
    generate_cases(13_000, 1, anchor=NOW)
    open_count = Case.objects.filter(status__in=OPEN_STATUSES).count()
    assert open_count >= 10_000
    everyone = scope(world, "dispatcher")
    whole = worklist.filtered_cases(everyone, worklist.WorkFilter(), now=NOW).order_by("due_at", "id")[:51]
    plan = _plan(whole)
    assert "case_open_due" in plan and "Sort Key" not in plan and "Seq Scan on incidents_case" not in plan, plan
    # The inbox: the planner picks either open-case index (the department holds half the demo's
    # cases here); either way an ordered index walk, neither a scan of the table nor a sort.
    inbox = worklist.filtered_cases(scope(world, "handler"), worklist.WorkFilter(), now=NOW).order_by("due_at", "id")[
        :51
    ]
    inbox_plan = _plan(inbox)
    assert "case_open_d" in inbox_plan and "Sort Key" not in inbox_plan, inbox_plan
    # A time-left filter narrows the same walk, for every bucket, and tests the status once: repeated,
    # the open-status test had its selectivity counted twice, and at city scale (4 % of 2.2 M cases
    # open) the planner guessed 82 overdue cases for 75,538, read them all and sorted them (0.9 s
    # instead of 12 ms for the page).
    for bucket in worklist.TIME_LEFT:
        filtered = worklist.filtered_cases(everyone, worklist.WorkFilter(time_left=bucket), now=NOW)
        assert str(filtered.query).count('"incidents_case"."status" IN') == 1, bucket
    overdue_plan = _plan(
        worklist.filtered_cases(everyone, worklist.WorkFilter(time_left="overdue"), now=NOW).order_by("due_at", "id")[
            :51
        ]
    )
    assert "case_open_due" in overdue_plan and "Sort Key" not in overdue_plan, overdue_plan
    # A page deep in the queue costs what the first does: the cursor is a range on the same index.
    page = worklist.work_page(everyone, worklist.WorkFilter(), size=50, now=NOW)
    for _ in range(30):
        page = worklist.work_page(everyone, worklist.WorkFilter(), after=page.next, size=50, now=NOW)
    deep = worklist.filtered_cases(everyone, worklist.WorkFilter(), now=NOW).filter(worklist._after(page.next))
    deep_plan = _plan(deep.order_by("due_at", "id")[:51])
    assert "case_open_due" in deep_plan and "Index Cond" in deep_plan, deep_plan


def test_a_handler_lists_only_their_departments_cases(world):
    mine = report(world["rubbish"], 105.41, 28.93)
    report(world["parking"], 105.41, 28.94)
    page = worklist.work_page(scope(world, "handler"), worklist.WorkFilter(), now=NOW)
    assert [c.pk for c in page.cases] == [mine.pk]


def test_bulk_register_one_stale_case_of_five_is_reported_the_others_go_through(world):
    cases = [report(world["rubbish"], 105.401 + 0.001 * i, 28.905) for i in range(5)]
    stale = cases[2]
    Case.objects.filter(pk=stale.pk).update(version=stale.version + 1)  # someone else moved it meanwhile
    outcomes = services.bulk_transition(
        action="register", selection=[(c.pk, c.version) for c in cases], user=world["users"]["dispatcher"]
    )
    assert [o.case_id for o in outcomes] == [c.pk for c in cases]
    assert [o.ok for o in outcomes] == [True, True, False, True, True]
    assert outcomes[2].field == "version" and "reload" in outcomes[2].error
    statuses = dict(Case.objects.filter(pk__in=[c.pk for c in cases]).values_list("pk", "status"))
    assert [statuses[c.pk] for c in cases] == ["registered", "registered", "reported", "registered", "registered"]
    assert not Case.objects.get(pk=stale.pk).trail.filter(action="register").exists()


def test_bulk_reports_an_impossible_step_and_an_unseen_case_per_case(world):
    first, second = (report(world["rubbish"], 105.401 + 0.001 * i, 28.905) for i in range(2))
    parking = report(world["parking"], 105.41, 28.94)  # the water bureau's: the handler cannot see it
    handler = world["users"]["handler"]
    services.transition(case_id=first.pk, action="register", user=world["users"]["dispatcher"], version=1)
    services.transition(case_id=first.pk, action="dispatch", user=world["users"]["dispatcher"], version=2)
    outcomes = services.bulk_transition(
        action="accept", selection=[(first.pk, 3), (second.pk, 1), (parking.pk, 1)], user=handler
    )
    assert [o.ok for o in outcomes] == [True, False, False]
    assert outcomes[1].field == "status" and "dispatched" in outcomes[1].error
    assert "no case" in outcomes[2].error


def test_bulk_through_the_api_answers_one_outcome_per_case(api, world):
    cases = [report(world["rubbish"], 105.401 + 0.001 * i, 28.905) for i in range(3)]
    api.force_authenticate(world["users"]["dispatcher"])
    body = {"cases": [{"id": c.pk, "version": 1} for c in cases[:2]] + [{"id": cases[2].pk, "version": 9}]}
    response = api.post("/api/v1/incidents/bulk/register/", body, format="json")
    assert response.status_code == 200, response.json()
    assert [r["ok"] for r in response.json()["results"]] == [True, True, False]
    assert api.post("/api/v1/incidents/bulk/fly/", body, format="json").status_code == 404
    assert api.post("/api/v1/incidents/bulk/register/", {"cases": []}, format="json").status_code == 400


def test_merge_as_me_too_and_unlink_again(world):
    original = report(world["rubbish"], 105.41, 28.93)
    # 50 m east (0.000512° of longitude at 28.93° N is about 50 m): farther than intake's 30 m, so a new case.
    repeat = report(world["rubbish"], 105.410512, 28.93)
    assert repeat.status == Status.REPORTED
    found = worklist.likely_duplicates(repeat)
    assert [c.pk for c, _ in found] == [original.pk] and 45 < found[0][1] < 55
    dispatcher = world["users"]["dispatcher"]
    with pytest.raises(services.MissingInput):
        services.transition(case_id=repeat.pk, action="merge", user=dispatcher, version=1)
    services.transition(case_id=repeat.pk, action="merge", user=dispatcher, version=1, duplicate_of=original.pk)
    original.refresh_from_db()
    assert original.me_too_count == 1 and [c.pk for c in worklist.linked_duplicates(original)] == [repeat.pk]
    assert original.trail.filter(action="me_too", data__duplicate=repeat.pk).exists()
    services.transition(case_id=repeat.pk, action="unlink", user=dispatcher, version=2)
    original.refresh_from_db()
    assert original.me_too_count == 0 and Case.objects.get(pk=repeat.pk).status == Status.REPORTED


def test_dispatch_offers_the_suggested_department_first_and_another_needs_a_reason(world):
    case = report(world["rubbish"], 105.41, 28.93)
    choices = worklist.dispatch_choices(Case.objects.select_related("category", "department").get(pk=case.pk))
    assert choices[0].department == world["cgj"] and choices[0].suggested and choices[0].why == "category_default"
    assert world["water"] in [c.department for c in choices[1:]]
    dispatcher = world["users"]["dispatcher"]
    services.transition(case_id=case.pk, action="register", user=dispatcher, version=1)
    with pytest.raises(services.MissingInput) as refused:
        services.transition(case_id=case.pk, action="dispatch", user=dispatcher, version=2, department=world["water"])
    assert "reason" in str(refused.value)
    moved = services.transition(
        case_id=case.pk, action="dispatch", user=dispatcher, version=2, department=world["water"], note="按属地原则改派"
    )
    assert moved.department == world["water"] and moved.trail.last().note == "按属地原则改派"


def test_canned_phrases_are_kept_by_the_dispatchers_office_and_read_by_staff(api, world):
    api.force_authenticate(world["users"]["dispatcher"])
    response = api.post("/api/v1/incidents/phrases/", {"kind": "reject", "text": "非本平台受理范围"}, format="json")
    assert response.status_code == 201, response.json()
    assert CannedPhrase.objects.get().updated_by == world["users"]["dispatcher"]
    api.force_authenticate(world["users"]["handler"])
    assert [p["text"] for p in api.get("/api/v1/incidents/phrases/?kind=reject").json()] == ["非本平台受理范围"]
    refused = api.post("/api/v1/incidents/phrases/", {"kind": "return", "text": "x"}, format="json")
    assert refused.status_code == 403
    assert [p.text for p in worklist.canned_phrases("reject")] == ["非本平台受理范围"]


def test_the_leaders_dashboard_counts_their_area_by_child_grid(world):
    late = report(world["rubbish"], 105.41, 28.93, at=NOW - datetime.timedelta(hours=3))  # g1, overdue
    report(world["rubbish"], 105.43, 28.93, at=NOW - datetime.timedelta(hours=1))  # g2, on its way
    report(world["rubbish"], 105.47, 28.88, at=NOW)  # the east street: not the leader's community
    Case.objects.filter(pk=late.pk).update(escalation_level=2)  # on the ladder's second rung
    leader = scope(world, "leader")
    assert [g.code for g in dashboard.area_roots(leader)] == ["510502001001"]
    assert dashboard.visible_area(leader, "510502002") is None  # out of scope: the screen answers 404
    view = dashboard.overview(leader, dashboard.visible_area(leader, "510502001001"), now=NOW)
    assert view.totals == {"open": 2, "overdue": 1}
    rows = {row["grid"].code: (row["open"], row["overdue"]) for row in view.children}
    assert rows == {"510502001001001": (1, 1), "510502001001002": (1, 0)}
    # The ladder comes from the same aggregate as the counts; it is the incidents layer's own count.
    in_area = visible_cases(leader).filter(grid__code__startswith="510502001001")
    assert view.ladder == {level: overdue_by_level(NOW, in_area).get(level, 0) for level in range(5)}
    assert view.ladder[2] == 1 and view.period == "2026Q4" and view.last_period == "2026Q3"
    assert view.rates["received"]["this"] == 2
    grid_view = dashboard.overview(leader, dashboard.visible_area(leader, "510502001001001"), now=NOW)
    assert [c.pk for c in grid_view.cases] == [late.pk]  # a unit grid lists its cases


def test_the_dispatcher_moves_a_case_near_an_edge_to_the_neighbouring_grid(api, world):
    # 2 m west of the line lon 105.42 between grid g1 (west) and g2 (east): 0.00002° of longitude is
    # about 1.95 m at 28.93° N, within EDGE_METRES (5 m) of the edge, so flagged; g2 is 1.95 m away.
    case = report(world["rubbish"], 105.41998, 28.93)
    assert case.near_edge and case.grid.code.startswith("510502001001001")
    alternatives = worklist.edge_alternatives(case)
    assert [g.code for g, _ in alternatives] == ["510502001001002"] and 1.5 < alternatives[0][1] < 2.5
    dispatcher = world["users"]["dispatcher"]
    g2, g1 = world["grids"]["g2"], world["grids"]["g1"]
    with pytest.raises(services.MissingInput):  # a reason is needed
        services.change_grid(case_id=case.pk, grid=g2, user=dispatcher, version=1, note="")
    with pytest.raises(services.MissingInput):  # only a neighbour of the point
        services.change_grid(case_id=case.pk, grid=world["grids"]["c2"], user=dispatcher, version=1, note="x")
    with pytest.raises(services.NotAllowed):
        services.change_grid(case_id=case.pk, grid=g2, user=world["users"]["handler"], version=1, note="x")
    api.force_authenticate(dispatcher)
    response = api.post(
        f"/api/v1/incidents/{case.pk}/grid/", {"version": 1, "grid": g2.code, "note": "点位在路东侧"}, format="json"
    )
    assert response.status_code == 200, response.json()
    moved = Case.objects.get(pk=case.pk)
    assert moved.grid == g2 and moved.officer is None and moved.leader.name == "包片领导"  # c1's leader
    assert moved.provenance["grid"]["rule"] == "dispatcher" and moved.version == 2 and not moved.near_edge
    entry = moved.trail.get(action="regrid")
    assert entry.data["grid"] == {"from": g1.children.get(code__endswith="001").code, "to": g2.code}
    assert entry.actor == dispatcher and entry.note == "点位在路东侧"
    stale = api.post(f"/api/v1/incidents/{case.pk}/grid/", {"version": 1, "grid": g1.code, "note": "x"}, format="json")
    assert stale.status_code == 409
