"""Place search (layers/grids/places.py, GET /api/v1/places/) and Open311's address_string, which
uses it to place a request sent without coordinates."""

import pytest
from django.contrib.gis.geos import Point
from django.db import connection

from layers.estates.models import Estate
from layers.grids import places
from layers.grids.models import Level
from layers.incidents.catalogue import load_categories
from layers.incidents.models import Case, Open311Key
from layers.inspections.models import InspectionCategory, InspectionPoint
from tests.factories import box, make_department, make_grid, small_tree

URL = "/api/v1/places/"


@pytest.fixture
def world(db):
    """small_tree (streets 南城街道 and 北城街道, communities 白招牌社区 and 水井沟社区, grids 第一网格 and
    第二网格), a community 滨江路社区 and one with a Latin name, an estate and an inspection point."""
    grids = small_tree()
    grids["binjiang"] = make_grid(
        "510502002001", Level.COMMUNITY, (105.45, 28.90, 105.50, 28.95), grids["s2"], name="滨江路社区"
    )
    grids["latin"] = make_grid(
        "510502002002", Level.COMMUNITY, (105.45, 28.85, 105.50, 28.90), grids["s2"], name="Binjiang Garden"
    )
    Estate.objects.create(name="滨江花园小区", community=grids["binjiang"], boundary=box(105.46, 28.91, 105.47, 28.92))
    category = InspectionCategory.objects.order_by("id").first()
    InspectionPoint.objects.create(
        name="滨江农贸市场", category=category, location=Point(105.455, 28.905, srid=4326), street=grids["s2"]
    )
    return grids


def names(answer) -> list[str]:
    return [place["name"] for place in answer.json()]


def test_the_cluster_makes_trigrams_of_chinese_characters(db):
    """pg_trgm takes only the characters its LC_CTYPE calls alphanumeric into trigrams: on a database
    whose locale does not know Chinese ("C" with SQL_ASCII), 滨江 would have no trigrams at all and
    the similarity search would find nothing Chinese. This cluster's (UTF-8, C.UTF-8) does."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT array_length(show_trgm('滨江路'), 1), similarity('滨江路社区', '宾江路社区')")
        trigrams, misspelt = cursor.fetchone()
    assert trigrams == 4  # "  滨", " 滨江", "滨江路", "江路 "
    # 滨江路社区 and 宾江路社区 have 6 trigrams each and share 3 (江路社, 路社区, "社区 "): 3 of 9.
    assert misspelt == pytest.approx(3 / 9)


def test_a_chinese_partial_name_finds_every_kind_of_place(api, world):
    answer = api.get(URL, {"q": "滨江"})
    assert answer.status_code == 200, answer.content
    found = {(place["kind"], place["name"]) for place in answer.json()}
    assert found == {
        ("community", "滨江路社区"),
        ("estate", "滨江花园小区"),
        ("inspection_point", "滨江农贸市场"),
    }
    community = next(place for place in answer.json() if place["kind"] == "community")
    assert community["context"] == "北城街道"
    # The point lies inside the community (ST_PointOnSurface), so a report placed there is its own.
    assert world["binjiang"].boundary.covers(Point(community["lon"], community["lat"], srid=4326))


def test_the_middle_of_a_chinese_name_finds_it(api, world):
    # "招牌" shares no trigram with "白招牌社区" (a Chinese name is one word to pg_trgm): LIKE finds it.
    assert names(api.get(URL, {"q": "招牌"})) == ["白招牌社区"]


def test_a_misspelt_chinese_name_finds_the_right_place_first(api, world):
    # 南成 for 南城: 2 of 8 trigrams shared, under any threshold; one of the three character pairs
    # (南成, 成街, 街道) is in 南城街道, and its trigram similarity puts it before 北城街道.
    found = names(api.get(URL, {"q": "南成街道"}))
    assert found[0] == "南城街道"
    assert "北城街道" in found
    assert names(api.get(URL, {"q": "宾江路社区"}))[0] == "滨江路社区"


def test_a_misspelt_latin_name_is_found_by_similarity(api, world):
    assert names(api.get(URL, {"q": "Binjaing Gardn"}))[0] == "Binjiang Garden"
    assert names(api.get(URL, {"q": "binjiang"}))[0] == "Binjiang Garden"  # case does not matter


def test_the_best_match_comes_first_and_the_answer_is_stable(api, world):
    first = api.get(URL, {"q": "第一网格"}).json()
    assert first[0]["name"] == "第一网格" and first[0]["kind"] == "grid" and first[0]["context"] == "白招牌社区"
    assert api.get(URL, {"q": "第一网格"}).json() == first


def test_micro_grids_districts_and_inactive_grids_are_not_places(api, world):
    assert names(api.get(URL, {"q": "1号楼"})) == []  # a micro-grid: one building, named only in its grid
    assert names(api.get(URL, {"q": "江阳区"})) == []
    world["c2"].is_active = False
    world["c2"].save(update_fields=["is_active"])
    assert names(api.get(URL, {"q": "水井沟社区"})) == []


def test_answers_hold_no_people_or_codes(api, world):
    for place in api.get(URL, {"q": "滨江"}).json():
        assert set(place) == {"kind", "name", "context", "lon", "lat", "score"}


@pytest.mark.parametrize(
    "params, field",
    [
        ({}, "q"),
        ({"q": ""}, "q"),
        ({"q": "x" * 51}, "q"),
        ({"q": "滨江", "limit": 0}, "limit"),
        ({"q": "a", "limit": 21}, "limit"),
    ],
)
def test_bad_queries_are_refused_naming_the_parameter(api, world, params, field):
    answer = api.get(URL, params)
    assert answer.status_code == 400
    assert field in answer.json()["errors"]


def test_limit_cuts_the_answer(api, world):
    assert len(api.get(URL, {"q": "社区", "limit": 2}).json()) == 2


def test_search_is_throttled_under_the_lookup_rate(api, world, settings):
    settings.GRIDGIS = {**settings.GRIDGIS, "THROTTLE_RATES": {**settings.GRIDGIS["THROTTLE_RATES"], "lookup": "3/min"}}
    codes = [api.get(URL, {"q": "滨江"}).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]


def test_every_layer_that_has_named_places_registered_them(db):
    assert set(places.kind_labels()) == {"street", "community", "grid", "estate", "inspection_point"}


# --- Open311 address_string ----------------------------------------------------------------------


@pytest.fixture
def open311(world):
    cgj = make_department("JY-CG", name="江阳区城市管理和综合执法局", district=world["district"])
    load_categories(fixers={"urban_management": cgj})
    Open311Key.objects.create(key="k-1", name="app")
    return world


def test_open311_places_a_request_by_its_address_string(client, open311):
    answer = client.post(
        "/open311/v2/requests.json",
        {"api_key": "k-1", "service_code": "0101", "address_string": "滨江路社区 3 号门口", "description": "垃圾"},
    )
    assert answer.status_code == 201, answer.content
    case = Case.objects.get(pk=int(answer.json()[0]["service_request_id"]))
    assert open311["binjiang"].boundary.covers(case.location)
    assert case.grid == open311["binjiang"]
    assert case.address == "滨江路社区 3 号门口"
    assert case.input_point == {
        "address_string": "滨江路社区 3 号门口",
        "place": {"kind": "community", "name": "滨江路社区"},
    }


def test_open311_lat_long_win_over_the_address_string(client, open311):
    answer = client.post(
        "/open311/v2/requests.json",
        {"api_key": "k-1", "service_code": "0101", "lat": "28.93", "long": "105.41", "address_string": "滨江路社区"},
    )
    case = Case.objects.get(pk=int(answer.json()[0]["service_request_id"]))
    assert (case.location.x, case.location.y) == pytest.approx((105.41, 28.93))


def test_open311_text_with_a_nul_is_refused_naming_the_field(client, open311):
    answer = client.post(
        "/open311/v2/requests.json", {"api_key": "k-1", "service_code": "0101", "address_string": "滨江路\x00社区"}
    )
    assert answer.status_code == 400
    assert answer.json()[0]["description"] == "address_string: NUL characters are not accepted"
    assert not Case.objects.exists()


def test_place_search_ignores_control_characters():
    assert places.search("\x00\x07 ") == []  # nothing left to search, and no query sent


def test_open311_address_string_that_matches_nothing_is_refused(client, open311):
    answer = client.post(
        "/open311/v2/requests.json", {"api_key": "k-1", "service_code": "0101", "address_string": "Zzyzx"}
    )
    assert answer.status_code == 400
    assert "address_string" in answer.json()[0]["description"]
    assert not Case.objects.exists()
