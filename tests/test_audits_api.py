"""The audits API over real HTTP handling (DRF test client) and the `audit` command, with their ledgers.

POST /api/v1/audits/ only enqueues the run; a queue worker (here run in-process by run_queued_jobs)
executes it, so these tests use transactional test databases (committed rows).
"""

from __future__ import annotations

import csv
import io

import pytest
from django.core.management import CommandError, call_command
from openpyxl import load_workbook

from common.waiting import wait_until
from layers.audits import services
from layers.audits.models import AuditRun
from tests.factories import small_tree
from tests.factories_audits import box_area
from tests.factories_incidents import make_user
from tests.queue_helpers import run_queued_jobs

FORMULA_NAME = '=HYPERLINK("http://evil.example","点我")'


def broken_tree():
    """small_tree() with grid 002 inactive (a gap in community 001001, which is given a formula-like name)."""
    tree = small_tree()
    tree["g2"].is_active = False
    tree["g2"].save()
    tree["c1"].name = FORMULA_NAME
    tree["c1"].save()
    return tree


@pytest.fixture
def supervisor(api):
    """The API client logged in as a member of the "supervisor" group."""
    user = make_user("supervisor")
    api.force_authenticate(user)
    return user


def wait_until_finished(api, url: str, seconds: float = 30.0) -> dict:
    assert api.get(url).json()["status"] == "queued"  # the request only enqueued it
    run_queued_jobs()

    def finished():
        body = api.get(url).json()
        return body if body["status"] in ("done", "failed") else None

    body = wait_until(finished, seconds, every=0.1)
    assert body, f"audit run at {url} not finished after {seconds} s"
    return body


@pytest.mark.django_db(transaction=True)
def test_post_runs_in_the_background_and_get_gives_status_and_geojson_findings(api, supervisor):
    broken_tree()
    response = api.post("/api/v1/audits/", {"district": "510502", "kinds": ["gap", "overlap"]}, format="json")
    assert response.status_code == 202, response.content
    url = response["Location"]
    assert url == f"/api/v1/audits/{response.json()['id']}/"
    assert response.json()["requested_via"] == f"api:{supervisor.username}"
    assert response.json()["requested_by"] == supervisor.username

    body = wait_until_finished(api, url)
    assert body["status"] == "done" and body["progress"] == 1.0
    assert body["summary"]["gap"]["findings"] == 1 and body["summary"]["overlap"]["findings"] == 0
    collection = body["findings"]
    assert collection["type"] == "FeatureCollection"
    [feature] = collection["features"]
    assert feature["geometry"]["type"] == "Polygon"
    assert feature["properties"]["kind"] == "gap"
    assert feature["properties"]["grid_code"] == "510502001001"
    # The removed grid's box, measured independently in EPSG:4544 (see tests/factories_audits.py).
    assert feature["properties"]["measure"] == pytest.approx(box_area(105.42, 28.90, 105.45, 28.95), rel=1e-3)

    # Filters: a bbox away from the gap, and another kind, give empty collections.
    assert api.get(url, {"bbox": "105.40,28.85,105.41,28.86"}).json()["findings"]["features"] == []
    assert api.get(url, {"kind": "overlap"}).json()["findings"]["features"] == []
    assert len(api.get(url, {"bbox": "105.43,28.91,105.44,28.92"}).json()["findings"]["features"]) == 1

    listing = api.get("/api/v1/audits/").json()
    assert listing["count"] == 1 and [run["id"] for run in listing["results"]] == [body["id"]]


@pytest.mark.django_db(transaction=True)
def test_exports_write_text_cells_and_chinese_headers(api, supervisor):
    broken_tree()
    run = services.execute_run(services.create_run(kinds=["gap"], via="test").pk)

    response = api.get(f"/api/v1/audits/{run.pk}/findings.xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert [c.value for c in sheet[1]][:6] == ["序号", "类型", "量值", "单位", "网格编码", "网格名称"]
    row = sheet[2]
    assert row[1].value == "空白区" and row[4].value == "510502001001"
    # The grid's formula-looking name is stored as text, never as a formula.
    assert row[5].value == FORMULA_NAME and row[5].data_type == "s"
    assert row[2].data_type == "n" and row[2].value == pytest.approx(box_area(105.42, 28.90, 105.45, 28.95), rel=1e-3)
    assert sheet.max_row == 2

    response = api.get(f"/api/v1/audits/{run.pk}/findings.csv")
    assert response.status_code == 200
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff序号,类型,量值")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert len(rows) == 2
    assert rows[1][5] == "'" + FORMULA_NAME  # neutralised for spreadsheets that open CSV files
    # The same filters as the GeoJSON: a box away from the gap gives the headers only.
    away = api.get(f"/api/v1/audits/{run.pk}/findings.csv", {"bbox": "105.40,28.85,105.41,28.86"})
    assert len(list(csv.reader(io.StringIO(away.content.decode("utf-8-sig"))))) == 1

    assert api.get(f"/api/v1/audits/{run.pk}/findings.pdf").status_code == 404
    assert api.get("/api/v1/audits/999999/findings.csv").status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize(
    "payload, field",
    [
        ({"kinds": ["gap", "nonsense"]}, "kinds"),
        ({"kinds": []}, "kinds"),
        ({"district": "999999"}, "district"),
        ({"min_area_m2": "lots"}, "min_area_m2"),
        ({"min_area_m2": -1}, "min_area_m2"),
        ({"leader_level": "planet"}, "leader_level"),
        ({"on": "yesterday"}, "on"),
    ],
)
def test_bad_requests_are_400s_naming_the_field_and_store_nothing(api, supervisor, payload, field):
    small_tree()
    response = api.post("/api/v1/audits/", payload, format="json")
    assert response.status_code == 400
    # "field: message", or "kinds.1: message" for an item of a list.
    assert response.json()["detail"].split(":")[0].split(".")[0] == field, response.json()
    assert AuditRun.objects.count() == 0


@pytest.mark.django_db
def test_bad_filters_are_400s(api, supervisor):
    small_tree()
    run = services.execute_run(services.create_run(kinds=["gap"], via="test").pk)
    response = api.get(f"/api/v1/audits/{run.pk}/", {"bbox": "1,2,3"})
    assert response.status_code == 400 and response.json()["detail"].startswith("bbox:")
    response = api.get(f"/api/v1/audits/{run.pk}/", {"kind": "volcano"})
    assert response.status_code == 400 and response.json()["detail"].startswith("kind:")
    assert api.get("/api/v1/audits/424242/").status_code == 404


@pytest.mark.django_db
def test_only_supervisors_may_use_the_audits_api(api):
    small_tree()
    run = services.execute_run(services.create_run(kinds=["gap"], via="test").pk)
    urls = [
        "/api/v1/audits/",
        f"/api/v1/audits/{run.pk}/",
        f"/api/v1/audits/{run.pk}/findings.csv",
        "/api/v1/assessments/?period=2026Q3",
    ]
    for url in urls:
        assert api.get(url).status_code in (401, 403), url
    assert api.post("/api/v1/audits/", {}, format="json").status_code in (401, 403)
    api.force_authenticate(make_user("dispatcher"))
    assert api.get(urls[0]).status_code == 403
    assert api.post("/api/v1/audits/", {}, format="json").status_code == 403
    assert AuditRun.objects.count() == 1


@pytest.mark.django_db
def test_the_audit_command_runs_prints_and_exports(tmp_path):
    broken_tree()
    out = io.StringIO()
    ledger = tmp_path / "ledger.xlsx"
    call_command("audit", "--district", "510502", "--kinds", "gap", "orphan", "--export", str(ledger), stdout=out)
    text = out.getvalue()
    assert "done" in text and "gap" in text and "1 findings" in text
    run = AuditRun.objects.get()
    assert run.requested_via.startswith("cli:") and run.kinds == ["gap", "orphan"]
    sheet = load_workbook(ledger).active
    assert {row[1] for row in sheet.iter_rows(min_row=2, values_only=True)} == {"空白区", "无人负责"}

    # Resuming a finished run recomputes it, without duplicates.
    call_command("audit", "--resume", str(run.pk), stdout=io.StringIO())
    assert run.findings.filter(kind="gap").count() == 1

    with pytest.raises(CommandError, match="--district"):
        call_command("audit", "--district", "999999", stdout=io.StringIO())
    with pytest.raises(CommandError, match="--export"):
        call_command("audit", "--export", str(tmp_path / "ledger.pdf"), stdout=io.StringIO())
    with pytest.raises(CommandError, match="--resume"):
        call_command("audit", "--resume", "424242", stdout=io.StringIO())
