"""Assessment (考核) figures checked against a hand-made set of cases whose figures are worked out below.

Period 2026Q3 = [1 July, 1 October) in Asia/Shanghai; assessed on 15 October, so the cutoff is the
period's end. Unit grids: g1 and g2 of small_tree() and g3, a unit grid added in community c2.

g1's cases (each due to close 76 h after its report):
  c1  register, dispatch, accept, handle, verify, close before the deadline        closed on time
  c2  register, dispatch, accept, handle, fail (rework), handle, verify, close late closed late
  c3  register, dispatch, return, dispatch, accept; open past its deadline;          overdue, open
      escalated to rungs 1, 2 and 3 in the period (deductions 0 + 1 + 2 = 3 points)
  c4  reject (never registered)
  c5  register on 30 September 23:00, deadline in October: not yet due
  plus a "me too" duplicate of c1 and a case reported in June: neither counts.
So: received 5, registered 4 (register rate 0.8), due 3 (c1, c2, c3), closed 2 (closure 2/3), on time 1
(on-time 1/3), dispatched 3 (c1, c2, c3), returned 1 (accurate dispatch 2/3), handled 2, reworked 1
(rework 0.5), overdue 2 (c2 closed late, c3 open), deductions 3.
Score = 100 × (0.25 × 2/3 + 0.35 × 1/3 + 0.1 × 0.8 + 0.15 × 2/3 + 0.15 × (1 − 0.5)) − 3 = 50.83.
g2: 2 cases closed on time (score 100, but 2 < the minimum sample of 3: listed, not ranked).
g3: 3 cases closed on time (score 100, rank 1); g1 is rank 2, the worst ranked, alone on the notice.
"""

from __future__ import annotations

import datetime
import io

import pytest
from django.core.management import call_command
from openpyxl import load_workbook

from layers.audits.assessment import Period, assess
from layers.grids.models import Level
from tests.factories import make_department, make_grid, make_person, small_tree
from tests.factories_audits import add_steps, make_case
from tests.factories_incidents import make_category, make_user

pytestmark = pytest.mark.django_db

CST = datetime.timezone(datetime.timedelta(hours=8))
NOW = datetime.datetime(2026, 10, 15, 12, 0, tzinfo=CST)
LIMIT = datetime.timedelta(hours=76)


def at(day: int, hour: int = 9, month: int = 8) -> datetime.datetime:
    return datetime.datetime(2026, month, day, hour, 0, tzinfo=CST)


def h(moment: datetime.datetime, hours: float) -> datetime.datetime:
    return moment + datetime.timedelta(hours=hours)


@pytest.fixture
def knobs(settings):
    settings.GRIDGIS = {**settings.GRIDGIS, "ASSESSMENT": {**settings.GRIDGIS["ASSESSMENT"], "MIN_SAMPLE": 3}}


@pytest.fixture
def history(knobs):
    tree = small_tree()
    g3 = make_grid("510502001002001", Level.GRID, (105.40, 28.85, 105.45, 28.90), tree["c2"], name="=SUM(A1)")
    rubbish = make_category("0101")
    bureau, squad = make_department(name="城管局"), make_department(name="街道执法队")
    leader_a, leader_b = make_person("李领导"), make_person("张领导")

    def case(grid, reported, **fields):
        fields.setdefault("department", bureau)
        fields.setdefault("leader", leader_a)
        return make_case(rubbish, 105.41, 28.93, reported, grid=grid, final_due_at=reported + LIMIT, **fields)

    def closed_on_time(grid, reported, **fields):
        c = case(grid, reported, status="closed", **fields)
        add_steps(
            c,
            ("register", h(reported, 1)),
            ("dispatch", h(reported, 2)),
            ("accept", h(reported, 3)),
            ("handle", h(reported, 20)),
            ("verify", h(reported, 30)),
            ("close", h(reported, 40)),
        )
        return c

    g1 = tree["g1"]
    c1 = closed_on_time(g1, at(3))
    c2 = case(g1, at(5), status="closed")
    add_steps(
        c2,
        ("register", h(at(5), 1)),
        ("dispatch", h(at(5), 2)),
        ("accept", h(at(5), 3)),
        ("handle", h(at(5), 20)),
        ("fail", h(at(5), 30)),
        ("handle", h(at(5), 50)),
        ("verify", h(at(5), 70)),
        ("close", h(at(5), 90)),
    )
    c3 = case(g1, at(10), status="handling", department=squad)
    add_steps(
        c3,
        ("register", h(at(10), 1)),
        ("dispatch", h(at(10), 2)),
        ("return", h(at(10), 5)),
        ("dispatch", h(at(10), 6)),
        ("accept", h(at(10), 8)),
        ("escalate", h(at(10), 77), 1),
        ("escalate", h(at(10), 101), 2),
        ("escalate", h(at(10), 149), 3),
    )
    c4 = case(g1, at(12), status="rejected")
    add_steps(c4, ("reject", h(at(12), 1)))
    c5 = case(g1, at(30, 23, month=9), status="registered")
    add_steps(c5, ("register", h(at(30, 23, month=9), 0.5)))
    case(g1, at(3, 10), status="duplicate", duplicate_of=c1)
    closed_on_time(g1, at(20, month=6))  # the second quarter

    for day in (4, 6):
        closed_on_time(tree["g2"], at(day), leader=leader_b)
    for day in (7, 8, 9):
        closed_on_time(g3, at(day), leader=leader_b, department=squad)
    return {"c2": c2, "c3": c3, "g3": g3, "bureau": bureau, "squad": squad, "leader_a": leader_a}


def test_period_parsing():
    q3 = Period.parse("2026Q3")
    assert (q3.start.month, q3.end.month, q3.end.year) == (7, 10, 2026)
    q4 = Period.parse("2026q4")
    assert (q4.end.year, q4.end.month) == (2027, 1)
    month = Period.parse("2026-12")
    assert (month.start.month, month.end.year, month.end.month) == (12, 2027, 1)
    assert Period.parse("2026").end.year == 2027


def test_grid_figures_match_the_hand_count(history):
    result = assess(period="2026Q3", unit="grid", notice_size=1, now=NOW)
    rows = {row["unit_code"]: row for row in result.rows}
    g1 = rows["510502001001001"]
    assert {
        k: g1[k]
        for k in (
            "received",
            "registered",
            "due",
            "closed",
            "on_time",
            "dispatched",
            "returned",
            "handled",
            "reworked",
            "overdue",
        )
    } == {
        "received": 5,
        "registered": 4,
        "due": 3,
        "closed": 2,
        "on_time": 1,
        "dispatched": 3,
        "returned": 1,
        "handled": 2,
        "reworked": 1,
        "overdue": 2,
    }
    assert g1["deductions"] == 3
    assert g1["register_rate"] == pytest.approx(0.8)
    assert g1["closure_rate"] == pytest.approx(2 / 3)
    assert g1["on_time_rate"] == pytest.approx(1 / 3)
    assert g1["rework_rate"] == pytest.approx(0.5)
    assert g1["accurate_dispatch_rate"] == pytest.approx(2 / 3)
    assert g1["score"] == pytest.approx(50.83, abs=0.005)

    g2, g3 = rows["510502001001002"], rows["510502001002001"]
    assert g3["score"] == 100 and g3["rank"] == 1 and g3["ranked"]
    assert g1["rank"] == 2
    # g2 is perfect too, but 2 cases are under the minimum sample of 3: listed, not ranked.
    assert g2["score"] == 100 and not g2["ranked"] and g2["rank"] is None
    assert [row["unit_code"] for row in result.rows] == ["510502001002001", "510502001001001", "510502001001002"]

    [notice] = result.notice
    assert notice["unit_code"] == "510502001001001"
    # Its overdue cases, earliest deadline first: c2 (closed late) and c3 (still open).
    assert [c["id"] for c in notice["overdue_cases"]] == [history["c2"].pk, history["c3"].pk]


def test_departments_and_leaders_are_assessed_the_same_way(history):
    by_department = {row["unit_id"]: row for row in assess(period="2026Q3", unit="department", now=NOW).rows}
    # The bureau has c1, c2, c4, c5 of g1 and g2's two cases; the squad c3 and g3's three.
    assert by_department[history["bureau"].pk]["received"] == 6
    assert by_department[history["squad"].pk]["received"] == 4
    assert by_department[history["squad"].pk]["returned"] == 1
    assert by_department[history["bureau"].pk]["unit_name"] == "城管局"
    by_leader = {row["unit_id"]: row for row in assess(period="2026Q3", unit="leader", now=NOW).rows}
    assert by_leader[history["leader_a"].pk]["received"] == 5
    assert by_leader[history["leader_a"].pk]["unit_name"] == "李领导"


def test_a_running_period_is_read_as_of_now(history):
    # On 12 August at noon: c3 (reported 10 August 09:00, due 13 August 13:00) is not yet due, c2 was
    # closed (8 August 23:00) after its deadline (8 August 13:00), c1 on time.
    result = assess(period="2026Q3", unit="grid", now=at(12, 12))
    g1 = {row["unit_code"]: row for row in result.rows}["510502001001001"]
    assert (g1["received"], g1["due"], g1["closed"], g1["on_time"], g1["overdue"]) == (4, 2, 2, 1, 1)
    assert g1["deductions"] == 0


def test_community_level_units(history):
    rows = {row["unit_code"]: row for row in assess(period="2026Q3", unit="grid", level="community", now=NOW).rows}
    assert rows["510502001001"]["received"] == 7  # g1's 5 and g2's 2
    assert rows["510502001002"]["received"] == 3


def test_several_levels_at_once_give_each_levels_own_table(history):
    # The dashboard's one statement for an area and its children: the rows of each level, figures and
    # ranks, are those the level gives alone (each ranked among its own level, not across them).
    def rows(result):
        return {row["unit_code"]: {k: v for k, v in row.items() if k != "overdue_case_ids"} for row in result.rows}

    together = rows(assess(period="2026Q3", unit="grid", levels=["district", "community", "grid"], now=NOW))
    alone = {}
    for level in ("district", "community", "grid"):
        alone.update(rows(assess(period="2026Q3", unit="grid", level=level, now=NOW)))
    assert together == alone
    assert {len(code) for code in together} == {6, 12, 15}
    assert sorted(row["rank"] for code, row in together.items() if len(code) == 15 and row["ranked"])[0] == 1


@pytest.mark.parametrize(
    "params, field",
    [
        ({"period": "2026Q5"}, "period"),
        ({"period": "last quarter"}, "period"),
        ({"period": "2026Q3", "unit": "planet"}, "unit"),
        ({"period": "2026Q3", "level": "galaxy"}, "level"),
        ({"period": "2026Q3", "district": "999999"}, "district"),
        ({"period": "2026Q3", "notice": "-1"}, "notice"),
        ({}, "period"),
    ],
)
def test_bad_queries_are_400s_naming_the_field(api, params, field):
    small_tree()
    api.force_authenticate(make_user("supervisor"))
    response = api.get("/api/v1/assessments/", params)
    assert response.status_code == 400
    assert response.json()["detail"].split(":")[0] == field, response.json()


def test_the_api_and_its_exports(api, history):
    api.force_authenticate(make_user("supervisor"))
    # The API reads "now" from the clock; the third quarter of 2026 is over, so its cutoff is the quarter's end.
    response = api.get("/api/v1/assessments/", {"period": "2026Q3", "unit": "grid", "notice": 1})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["period"] == "2026Q3" and body["unit"] == "grid" and body["min_sample"] == 3
    assert [row["unit_code"] for row in body["rows"]][:2] == ["510502001002001", "510502001001001"]
    assert body["notice"][0]["unit_code"] == "510502001001001"
    assert len(body["notice"][0]["overdue_cases"]) == 2

    xlsx = api.get("/api/v1/assessments/export.xlsx", {"period": "2026Q3", "notice": 1})
    assert xlsx.status_code == 200
    book = load_workbook(io.BytesIO(xlsx.content))
    table, notice = book.worksheets
    assert [c.value for c in table[1]][:4] == ["排名", "单位编码", "单位名称", "受理数"]
    # g3's name "=SUM(A1)" is stored as text, never as a formula.
    assert table["C2"].value == "=SUM(A1)" and table["C2"].data_type == "s"
    assert notice.title == "通报" and notice.max_row == 3  # header + g1's two overdue cases

    csv_response = api.get("/api/v1/assessments/export.csv", {"period": "2026Q3"})
    text = csv_response.content.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("排名,单位编码,单位名称,受理数")
    assert "'=SUM(A1)" in text


def test_the_assess_command(history, tmp_path):
    out = io.StringIO()
    path = tmp_path / "q3.xlsx"
    call_command("assess", "--period", "2026Q3", "--unit", "grid", "--notice", "1", "--export", str(path), stdout=out)
    text = out.getvalue()
    assert "3 units (2 ranked, minimum sample 3)" in text
    assert f"overdue cases {history['c2'].pk}, {history['c3'].pk}" in text
    assert len(load_workbook(path).worksheets) == 2
