"""The citizen's side of intake, without signing in: who will receive a report (receiver), what is
already reported nearby (nearby, "me too", "follow this one instead"), and the private follow link
with its public timeline."""

import datetime

import pytest
from django.utils import timezone

from common.photos import check_photo
from layers.grids.models import DutyKind
from layers.incidents import services
from layers.incidents.models import Case, FollowLink, Status
from tests.factories import make_person_on_duty, tree_with_departments
from tests.factories_incidents import image_upload, make_category, make_jurisdiction_department, make_rule, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root")]
INSIDE = {"lon": 105.41, "lat": 28.93}  # grid 510502001001001, micro-grid ...001001 (small_tree)
OUTSIDE_GRIDS = {"lon": 105.52, "lat": 28.93}  # 2 km east of the district: no grid covers it
METRES_PER_DEGREE_LON = 97_550  # at 28.93°N


@pytest.fixture
def world():
    grids = tree_with_departments()
    grids["rubbish"] = make_category(
        "0101", default_department=grids["cgj"], description_zh="路边的垃圾", description_en="Rubbish by the road"
    )
    grids["noise"] = make_category("0702")
    # Street 001's squad answers for street order there: a routing rule more specific than the default.
    grids["squad"] = make_jurisdiction_department((105.40, 28.85, 105.45, 28.95), code="S001-ZF", name="南城中队")
    grids["stall"] = make_category("0201", default_department=grids["cgj"])
    make_rule(grids["stall"], grids["squad"])
    grids["officer"] = make_person_on_duty(grids["g1"], DutyKind.OFFICER, "李网格员", phone="13800000001")
    return grids


def report(api, category="0101", where=INSIDE, **fields):
    answer = api.post("/api/v1/incidents/", {"category": category, **where, **fields}, format="json")
    assert answer.status_code in (200, 201), answer.content
    return answer.json()


# --- who will receive it -------------------------------------------------------------------------


def test_receiver_answers_grid_and_department_by_intakes_rule_and_creates_nothing(api, world):
    answer = api.get("/api/v1/incidents/receiver/", {**INSIDE, "category": "0201"})
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["grid"] == {"code": "510502001001001001", "name": "1号楼", "level": "microgrid"}
    assert body["district"] == {"code": "510502", "name": "江阳区"}
    assert body["department"]["name"] == "南城中队"  # the routing rule, as intake would choose
    assert body["dead_corner"] is False and body["department_known"] is True
    assert not Case.objects.exists()
    # The same point and category reported for real land with the same department and grid.
    case = report(api, "0201")["properties"]
    assert (case["grid"], case["department_name"]) == ("510502001001001001", "南城中队")


def test_receiver_without_a_category_names_the_grid_and_the_district_office(api, world):
    body = api.get("/api/v1/incidents/receiver/", INSIDE).json()
    assert body["grid"]["code"] == "510502001001001001"
    assert body["department"]["name"] == "江阳区指挥中心"
    assert body["department_known"] is False


def test_a_point_outside_every_grid_goes_to_the_districts_office_and_is_accepted(api, world):
    body = api.get("/api/v1/incidents/receiver/", {**OUTSIDE_GRIDS, "category": "0101"}).json()
    assert body["grid"] is None and body["dead_corner"] is True
    assert body["district"]["code"] == "510502" and body["department"]["name"] == "江阳区指挥中心"
    case = report(api, where=OUTSIDE_GRIDS)["properties"]
    assert case["dead_corner"] is True and case["department_name"] == "江阳区指挥中心"


def test_receiver_answers_no_people(api, world):
    flat = str(api.get("/api/v1/incidents/receiver/", {**INSIDE, "category": "0101"}).json())
    assert "李网格员" not in flat and "13800000001" not in flat and "provenance" not in flat


@pytest.mark.parametrize(
    "params, field",
    [
        ({"lat": 28.93}, "lon"),
        ({"lon": 105.41, "lat": 95}, "lat"),
        ({"lon": 28.93, "lat": 105.41}, "lat"),  # swapped
        ({"lon": 116.4, "lat": 39.9}, "lon"),  # Beijing: far outside the districts served
        ({**INSIDE, "category": "9999"}, "category"),
    ],
)
def test_receiver_and_nearby_refuse_bad_points_naming_the_field(api, world, params, field):
    for url in ("/api/v1/incidents/receiver/", "/api/v1/incidents/nearby/"):
        answer = api.get(url, params)
        assert answer.status_code == 400, (url, params)
        assert field in answer.json()["errors"], answer.json()


# --- similar reports nearby, "me too" and "follow this one instead" -----------------------------


def east_of(where, metres):
    return {"lon": where["lon"] + metres / METRES_PER_DEGREE_LON, "lat": where["lat"]}


def test_nearby_lists_open_cases_within_the_me_too_radius_nearest_first(api, world, settings):
    assert settings.GRIDGIS["DUPLICATE_METRES"] == 30
    far = report(api, where=east_of(INSIDE, 45))["id"]  # outside the 30 m radius
    near = report(api, where=east_of(INSIDE, -20))["id"]  # west: 65 m from `far`, not its duplicate
    nearer = report(api, "0702", where=east_of(INSIDE, 5))["id"]
    closed = Case.objects.create(
        category=world["rubbish"],
        location=f"SRID=4326;POINT({INSIDE['lon']} {INSIDE['lat']})",
        status=Status.CLOSED,
        reported_at=timezone.now(),
    )
    listed = api.get("/api/v1/incidents/nearby/", INSIDE).json()
    assert [case["id"] for case in listed] == [nearer, near]
    assert far not in [case["id"] for case in listed] and closed.pk not in [case["id"] for case in listed]
    assert listed[1]["distance_m"] == pytest.approx(20, abs=0.5)
    assert listed[1]["category_name_zh"] == "类别0101" and listed[1]["reference"] == str(near)
    only_rubbish = api.get("/api/v1/incidents/nearby/", {**INSIDE, "category": "0101"}).json()
    assert [case["id"] for case in only_rubbish] == [near]
    assert "reporter" not in str(listed) and "follow_token" not in str(listed)


def test_me_too_joins_the_chosen_case_even_when_intake_would_not(api, world):
    # Reported 10 days ago: beyond intake's DUPLICATE_DAYS, so it would not be joined by itself.
    old, _ = services.report_case(
        category=world["rubbish"],
        point=_point(east_of(INSIDE, 10)),
        input_point={},
        input_srs="EPSG:4326",
        now=timezone.now() - datetime.timedelta(days=10),
    )
    assert report(api)["properties"]["duplicate_of"] is None
    joined = report(api, me_too_of=old.pk)["properties"]
    assert joined["duplicate_of"] == old.pk and joined["status"] == "duplicate"
    old.refresh_from_db()
    assert old.me_too_count == 1


def test_me_too_of_a_far_or_closed_case_is_refused_and_nothing_is_stored(api, world):
    far = report(api, where=east_of(INSIDE, 45))["id"]
    before = Case.objects.count()
    answer = api.post("/api/v1/incidents/", {"category": "0101", **INSIDE, "me_too_of": far}, format="json")
    assert answer.status_code == 400 and "me_too_of" in answer.json()["errors"]
    assert Case.objects.count() == before


def test_follow_this_one_instead_gives_a_link_to_the_nearby_case(api, world):
    existing = report(api, where=east_of(INSIDE, 10))["id"]
    answer = api.post("/api/v1/follow/", {"case": existing, **INSIDE}, format="json")
    assert answer.status_code == 201, answer.content
    token = answer.json()["follow_token"]
    assert FollowLink.objects.get(token=token).case_id == existing
    assert api.get(f"/api/v1/follow/{token}/").json()["reference"] == str(existing)
    far = report(api, where=east_of(INSIDE, 300))["id"]
    refused = api.post("/api/v1/follow/", {"case": far, **INSIDE}, format="json")
    assert refused.status_code == 400 and "case" in refused.json()["errors"]


# --- the follow link ----------------------------------------------------------------------------


def _point(where):
    from django.contrib.gis.geos import Point

    return Point(where["lon"], where["lat"], srid=4326)


def test_each_report_gets_its_own_unguessable_follow_token(api, world):
    tokens = [report(api, description=f"第{n}处")["properties"]["follow_token"] for n in range(5)]
    assert len(set(tokens)) == 5
    for token in tokens:
        assert len(token) >= 43  # secrets.token_urlsafe(32): 256 random bits
        assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_a_replayed_report_answers_the_same_follow_token(api, world):
    first = api.post("/api/v1/incidents/", {"category": "0101", **INSIDE}, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    again = api.post("/api/v1/incidents/", {"category": "0101", **INSIDE}, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["Idempotent-Replayed"] == "true"  # common/idempotency.py answered the first answer
    assert again.json()["properties"]["follow_token"] == first.json()["properties"]["follow_token"]
    assert FollowLink.objects.count() == 1


def test_the_token_appears_nowhere_but_the_reporters_answer(api, world, client):
    created = report(api)
    token = created["properties"]["follow_token"]
    staff = make_user("supervisor")
    api.force_authenticate(staff)
    for url in (
        "/api/v1/incidents/",
        f"/api/v1/incidents/{created['id']}/",
        f"/api/v1/incidents/{created['id']}/trail/",
    ):
        assert token not in api.get(url).content.decode(), url
    api.force_authenticate(None)
    assert token not in api.get("/api/v1/incidents/nearby/", INSIDE).content.decode()
    for url in ("/open311/v2/requests.json", f"/open311/v2/requests/{created['id']}.json"):
        assert token not in client.get(url).content.decode(), url


def test_the_follow_link_shows_states_and_dates_without_staff_and_the_after_photo(api, world):
    created = report(api, description="门口垃圾", reporter_phone="13911112222", reporter_name="张三")
    token = created["properties"]["follow_token"]
    case_id = created["id"]
    dispatcher = make_user("dispatcher", name="赵调度")
    handler = make_user(department=world["cgj"], name="钱处置员")
    for user, action, extra in (
        (dispatcher, "register", {}),
        (dispatcher, "dispatch", {}),
        (handler, "accept", {}),
        (
            handler,
            "handle",
            {"note": "已清理，联系人孙师傅 13700009999", "photo": check_photo(image_upload("after.png"))},
        ),
    ):
        version = Case.objects.get(pk=case_id).version
        services.transition(case_id=case_id, action=action, user=user, version=version, **extra)

    answer = api.get(f"/api/v1/follow/{token}/")
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["reference"] == str(case_id) and body["status"] == "handled"
    assert body["category"]["description_zh"] == "路边的垃圾"
    assert [(entry["action"], entry["to_status"]) for entry in body["timeline"]] == [
        ("report", "reported"),
        ("register", "registered"),
        ("dispatch", "dispatched"),
        ("accept", "handling"),
        ("handle", "handled"),
    ]
    assert all(set(entry) == {"at", "action", "from_status", "to_status"} for entry in body["timeline"])
    assert len(body["after_photos"]) == 1 and body["after_photos"][0]["url"].endswith(".png")
    flat = str(body)
    for private in ("赵调度", "钱处置员", "孙师傅", "13700009999", "李网格员", "13800000001", "13911112222", "张三"):
        assert private not in flat


def test_a_me_too_follower_sees_the_original_cases_progress(api, world):
    original = report(api)
    follower = report(api, me_too_of=original["id"])["properties"]["follow_token"]
    version = Case.objects.get(pk=original["id"]).version  # the me-too bumped it
    services.transition(case_id=original["id"], action="register", user=make_user("dispatcher"), version=version)
    body = api.get(f"/api/v1/follow/{follower}/").json()
    assert body["status"] == "registered" and body["joined"] == str(original["id"])
    assert [entry["action"] for entry in body["timeline"]] == ["report", "register"]


@pytest.mark.parametrize("token", ["wrong", "x" * 43, "A" * 200, "%2e%2e", "%00abc", "滨江", "a b"])
def test_a_wrong_token_answers_404(api, world, token):
    report(api)
    answer = api.get(f"/api/v1/follow/{token}/")
    assert answer.status_code == 404
    assert "token" in answer.json()["detail"]


def test_categories_carry_their_short_description(api, world):
    rubbish = next(c for c in api.get("/api/v1/incidents/categories/").json() if c["code"] == "0101")
    assert (rubbish["description_zh"], rubbish["description_en"]) == ("路边的垃圾", "Rubbish by the road")
