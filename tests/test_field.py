"""The officer app's server side: who may open it, the shift-long session, the data document, nearby
open cases, the manifest, the icons and the service worker."""

from __future__ import annotations

import io
import json

import pytest
from django.contrib.gis.geos import Point
from django.contrib.staticfiles import finders
from django.test import Client
from PIL import Image

from layers.incidents.services import report_case
from tests.field_world import CHECK_AT, CONFIRM_AT, field_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(screen_user, media_root):
    return field_world(screen_user)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("url", ["/field/", "/field/report/", "/field/patrol/", "/field/task/", "/field/queue/"])
def test_screens_are_for_signed_in_officers(world, screen_user, url):
    assert Client().get(url)["Location"].startswith(f"/accounts/login/?next={url}")
    assert signed_in(screen_user("citizen")).get(url).status_code == 403
    page = signed_in(world["officer"]).get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'rel="manifest"' in html and 'id="field-config"' in html and '<html lang="zh-hans">' in html


def test_a_session_opened_in_the_app_lasts_a_shift(world, settings):
    settings.GRIDGIS = {**settings.GRIDGIS, "FIELD": {**settings.GRIDGIS["FIELD"], "SESSION_HOURS": 10}}
    client = signed_in(world["officer"])
    client.get("/field/")
    assert client.session.get_expiry_age() == 10 * 3600
    # Later screens of the same shift do not extend it.
    started = client.session["field_shift_started"]
    client.get("/field/report/")
    assert client.session["field_shift_started"] == started


def test_data_holds_my_tasks_grids_points_and_categories(world, screen_user):
    # A case in another grid (g2) is none of this officer's business.
    report_case(
        category=world["rubbish"],
        point=Point(105.43, 28.93, srid=4326),
        input_point={},
        input_srs="EPSG:4326",
    )
    data = signed_in(world["officer"]).get("/field/data/").json()
    assert [(t["id"], t["kind"]) for t in data["tasks"]] == [
        (world["to_confirm"].pk, "confirm"),
        (world["to_check"].pk, "check"),
    ]
    confirm = data["tasks"][0]
    assert (confirm["lon"], confirm["lat"]) == CONFIRM_AT and confirm["version"] == world["to_confirm"].version
    assert [entry["action"] for entry in confirm["trail"]] == ["report", "send_to_confirm"]
    assert confirm["stage_started_at"] == confirm["trail"][-1]["when"]
    assert [g["code"] for g in data["grids"]] == [world["tree"]["g1"].code]
    assert data["grids"][0]["boundary"]["type"] == "MultiPolygon"
    assert [p["name"] for p in data["points"]] == ["蔬菜市场"]
    assert [c["code"] for c in data["categories"]] == ["0101", "0102"]
    assert data["me"]["person_id"] == world["officer"].person.pk
    assert signed_in(screen_user("planner")).get("/field/data/").status_code == 403


def test_nearby_lists_the_open_cases_a_report_would_join_as_me_too(world, settings):
    client = signed_in(world["officer"])
    lon, lat = CHECK_AT
    # 20 m east of the handled case (within DUPLICATE_METRES = 30), then 40 m east (beyond).
    near = client.get("/field/data/nearby/", {"lon": lon + 0.000205, "lat": lat, "category": "0102"}).json()
    assert [c["id"] for c in near["cases"]] == [world["to_check"].pk]
    assert 19 < near["cases"][0]["distance_m"] < 21
    far = client.get("/field/data/nearby/", {"lon": lon + 0.00041, "lat": lat, "category": "0102"}).json()
    assert far["cases"] == []
    other_category = client.get("/field/data/nearby/", {"lon": lon, "lat": lat, "category": "0101"}).json()
    assert other_category["cases"] == []
    refused = client.get("/field/data/nearby/", {"lon": lon, "lat": lat, "category": "9999"})
    assert refused.status_code == 400 and "9999" in refused.json()["detail"]


def test_manifest_and_icons_make_the_app_installable(world):
    client = signed_in(world["officer"])
    manifest = json.loads(client.get("/field/manifest.webmanifest").content)
    assert manifest["start_url"] == manifest["scope"] == "/field/" and manifest["display"] == "standalone"
    assert manifest["name"] == "网格通·网格员"
    for icon in manifest["icons"]:
        answer = client.get(icon["src"])
        assert answer["Content-Type"] == "image/png"
        image = Image.open(io.BytesIO(answer.content))
        assert f"{image.width}x{image.height}" == icon["sizes"]
    assert {i["purpose"] for i in manifest["icons"]} == {"any", "maskable"}
    assert client.get("/field/icon-64.png").status_code == 404


def test_service_worker_is_scoped_to_the_app_and_keeps_an_existing_shell(world):
    answer = signed_in(world["officer"]).get("/field/sw.js")
    assert answer["Content-Type"].startswith("text/javascript") and answer["Service-Worker-Allowed"] == "/field/"
    preamble = answer.content.decode().split("\n", 1)[0]
    shell = json.loads(preamble.removeprefix("const SHELL = ").removesuffix(";"))
    assert shell["scope"] == "/field/" and shell["data"] == "/field/data/"
    assert set(shell["screens"]) == {"/field/", "/field/report/", "/field/patrol/", "/field/task/", "/field/queue/"}
    # Every static file the shell keeps exists (a missing one would fail the worker's install).
    for url in shell["static"]:
        if url.startswith("/static/"):
            assert finders.find(url.removeprefix("/static/")), url
    assert "/jsi18n/" in shell["static"]
