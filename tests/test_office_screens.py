"""The office screens as pages: who may open which (enumerated from the role table and the URL conf),
an out-of-scope case or area answering 404 on the page, and the URL keeping filters and selection."""

from __future__ import annotations

import datetime
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, resolve, reverse
from django.utils import timezone

from layers.accounts.roles import ROLE_NAMES
from layers.grids.models import Department, DutyKind
from layers.incidents.api.photo_views import CasePhotoView
from layers.incidents.models import Case, Photo, Source
from layers.incidents.services import transition
from office import urls as office_urls
from office.access import SCREENS
from tests.factories import make_department, make_person_on_duty, tree_with_departments
from tests.factories_incidents import image_upload, make_category, make_user, report_at

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root")]


def report(category, lon, lat, **fields):
    return report_at(category, lon, lat, now=timezone.now() - datetime.timedelta(hours=1), **fields)


@pytest.fixture
def world():
    grids = tree_with_departments()
    cgj = grids["cgj"]
    rubbish = make_category("0101", default_department=cgj)
    leaking = make_category("0501", default_department=grids["water"])
    leader = make_person_on_duty(grids["c1"], DutyKind.LEADER, "包片领导")
    officer = make_person_on_duty(grids["g1"], DutyKind.OFFICER, "网格员")
    users = {
        "citizen": make_user("citizen"),
        "officer": make_user(person=officer),
        "handler": make_user(department=cgj, name="城管队员"),
        "dispatcher": make_user("dispatcher"),
        "leader": make_user(person=leader),
        "planner": make_user("planner"),
        "supervisor": make_user("supervisor"),
        "admin": make_user("admin"),
    }
    assert set(users) == set(ROLE_NAMES)
    mine = report(rubbish, 105.41, 28.93, description="北门垃圾")
    theirs = report(leaking, 105.47, 28.88, description="水管漏水")  # the water bureau's, east street
    return {"grids": grids, "users": users, "mine": mine, "theirs": theirs, "rubbish": rubbish}


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def screen_paths() -> dict[str, str]:
    """Every office page in the URL conf, by the screen whose roles guard it (/office/ by whichever
    screen comes first)."""
    guarded = {"office-notice": "assessment"}
    by_url_name = {screen.url_name: name for name, screen in SCREENS.items()}
    paths = {}
    for pattern in office_urls.urlpatterns:
        assert isinstance(pattern, URLPattern)
        if pattern.name == "office-home":
            continue
        screen = by_url_name.get(pattern.name) or guarded[pattern.name]
        paths[reverse(pattern.name)] = screen
    return paths


def test_every_office_page_is_in_the_role_table():
    assert set(screen_paths().values()) == set(SCREENS)


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_each_role_opens_exactly_the_screens_its_roles_allow(world, role):
    client = client_for(world["users"][role])
    for path, screen in screen_paths().items():
        allowed = role == "admin" or role in SCREENS[screen].roles
        response = client.get(path)
        assert response.status_code == (200 if allowed else 403), (role, path, response.status_code)
        if not allowed:
            assert "无权访问" in response.content.decode()  # "Not for your role", in the page's language


def test_a_handler_cannot_open_the_dispatchers_console(world):
    response = client_for(world["users"]["handler"]).get("/office/dispatch/")
    assert response.status_code == 403
    assert reverse("office-inbox") in response.content.decode()  # the page says where they may go


def test_signed_out_readers_are_sent_to_sign_in(world):
    for path in [*screen_paths(), "/office/"]:
        response = Client().get(path)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/?next=")


@pytest.mark.parametrize(
    "role, landing",
    [
        ("dispatcher", "/office/dispatch/"),
        ("handler", "/office/inbox/"),
        ("leader", "/office/dashboard/"),
        ("supervisor", "/office/dashboard/"),  # supervisors do not dispatch (监管分离)
        ("planner", "/office/planning/"),
    ],
)
def test_office_lands_on_the_roles_first_screen_and_the_nav_shows_the_others(world, role, landing):
    client = client_for(world["users"][role])
    response = client.get("/office/")
    assert response.status_code == 302 and response["Location"] == landing
    page = client.get(landing).content.decode()
    nav = re.search(r'<nav class="app-nav".*?</nav>', page, re.S).group(0)
    shown = set(re.findall(r'href="(/office/[a-z]+/)"', nav))
    expected = {reverse(s.url_name) for s in SCREENS.values() if role in s.roles}
    assert shown == expected


def test_a_role_with_no_office_screen_gets_403_at_office(world):
    assert client_for(world["users"]["officer"]).get("/office/").status_code == 403
    assert client_for(world["users"]["citizen"]).get("/office/").status_code == 403


def test_an_out_of_scope_case_in_the_url_answers_404_on_the_page(world):
    handler = client_for(world["users"]["handler"])
    transition(case_id=world["mine"].pk, action="register", user=world["users"]["dispatcher"], version=1)
    transition(case_id=world["mine"].pk, action="dispatch", user=world["users"]["dispatcher"], version=2)
    assert handler.get(f"/office/inbox/?case={world['mine'].pk}").status_code == 200
    assert handler.get(f"/office/inbox/?case={world['theirs'].pk}").status_code == 404
    assert handler.get(f"/office/inbox/?case={world['theirs'].pk}&part=detail").status_code == 404
    assert handler.get("/office/inbox/?case=99999999").status_code == 404
    leader = client_for(world["users"]["leader"])
    assert leader.get(f"/office/dashboard/?grid={world['grids']['c1'].code}").status_code == 200
    assert leader.get(f"/office/dashboard/?grid={world['grids']['s2'].code}").status_code == 404  # not their area
    assert (
        leader.get(f"/office/dashboard/?grid={world['grids']['g1'].code}&case={world['theirs'].pk}").status_code == 404
    )


def test_the_url_keeps_the_filters_and_the_selected_case(world):
    client = client_for(world["users"]["dispatcher"])
    mine = world["mine"]
    page = client.get(f"/office/dispatch/?status=reported&category=01&grid=510502001&text=北门&case={mine.pk}")
    html = page.content.decode()
    assert page.status_code == 200
    assert re.search(r'value="reported" checked', html) and not re.search(r'value="registered" checked', html)
    assert re.search(r'<option value="01" selected', html)
    assert 'name="grid" type="search" inputmode="numeric" value="510502001"' in html
    assert f'data-case-id="{mine.pk}"' in html and f'data-case-id="{world["theirs"].pk}"' not in html
    # Each row's link keeps the filters and names its case; the detail shows the selected case.
    link = re.search(rf'class="case-link" href="\?([^"]*case={mine.pk})"', html).group(1).replace("&amp;", "&")
    assert "status=reported" in link and "category=01" in link and "grid=510502001" in link
    assert f'<article class="case-detail" data-case-id="{mine.pk}"' in html
    # The parts the page's module swaps in answer the same state.
    part = client.get(f"/office/dispatch/?status=reported&category=01&case={mine.pk}&part=list").content.decode()
    assert "<html" not in part and f'data-case-id="{mine.pk}"' in part and 'id="list-cases"' in part
    detail = client.get(f"/office/dispatch/?case={mine.pk}&part=detail").content.decode()
    assert "<html" not in detail and 'data-action="register"' in detail and 'data-action="send_to_confirm"' in detail


def test_the_next_page_link_keeps_the_filters(world, settings):
    settings.GRIDGIS = {**settings.GRIDGIS, "WORKLIST_PAGE_SIZE": 1}
    for index in range(2):
        report(world["rubbish"], 105.401 + 0.001 * index, 28.94)
    html = (
        client_for(world["users"]["dispatcher"]).get("/office/dispatch/?status=reported&category=0101").content.decode()
    )
    pager = re.search(r'id="more" href="\?([^"]*)"', html).group(1).replace("&amp;", "&")
    assert "status=reported" in pager and "category=0101" in pager and "after=" in pager
    second = client_for(world["users"]["dispatcher"]).get(f"/office/dispatch/?{pager}").content.decode()
    first_ids = re.findall(r'data-case-id="(\d+)"', html)
    second_ids = re.findall(r'data-case-id="(\d+)"', second)
    assert first_ids and second_ids and not set(first_ids) & set(second_ids)


@pytest.mark.parametrize("path", ["/office/dispatch/", "/office/dispatch/?part=list", "/office/inbox/"])
def test_a_work_list_costs_the_same_queries_for_2_cases_as_for_12(world, path):
    # One query for the page of cases (what a row shows, joined), one for the counts: no query per row,
    # such as a field the page's query left out and each row would then fetch on its own.
    reader = world["users"]["handler" if "inbox" in path else "dispatcher"]
    cgj = Department.objects.get(code="JY-CGJ")

    def queries() -> int:
        client = client_for(reader)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(path).status_code == 200
        return len(captured)

    def listed() -> int:
        return client_for(reader).get(path).content.decode().count('class="case-link"')

    for case in Case.objects.all():
        if "inbox" in path:
            Case.objects.filter(pk=case.pk).update(status="dispatched", department=cgj)
    few, shown_few = queries(), listed()
    for i in range(10):
        case = report(world["rubbish"], 105.401 + 0.0019 * i, 28.905, description=f"第{i}处")
        if "inbox" in path:
            Case.objects.filter(pk=case.pk).update(status="dispatched", department=cgj)
    assert listed() == shown_few + 10
    assert queries() == few


def test_a_bad_filter_answers_400_saying_which(world):
    response = client_for(world["users"]["dispatcher"]).get("/office/dispatch/?time_left=yesterday")
    assert response.status_code == 400 and "time_left" in response.content.decode()


def test_case_photos_on_the_office_screens_are_the_scoped_photo_views(world):
    """The office shows a case's photos through the incidents API's photo view (one mechanism for every
    screen: scope check, public copy only); no office URL serves files of its own."""
    dispatcher = world["users"]["dispatcher"]
    # An officer's report: not published through Open311, so its photos are for the case's readers only.
    case = report(world["rubbish"], 105.47, 28.88, description="井盖破损", source=Source.OFFICER)
    transition(case_id=case.pk, action="register", user=dispatcher, version=1)
    transition(case_id=case.pk, action="dispatch", user=dispatcher, version=2)
    cgj_handler = world["users"]["handler"]
    transition(case_id=case.pk, action="accept", user=cgj_handler, version=3)
    from common.photos import check_photo

    transition(
        case_id=case.pk, action="handle", user=cgj_handler, version=4, note="修好", photo=check_photo(image_upload())
    )
    photo = Photo.objects.get(case=case)
    page = client_for(dispatcher).get(f"/office/dispatch/?status=handled&case={case.pk}&part=detail")
    sources = re.findall(r'<img class="photo" src="([^"]+)"', page.content.decode())
    assert sources == [reverse("incident-photo", args=[case.pk, photo.pk])]
    assert resolve(sources[0]).func.view_class is CasePhotoView
    assert client_for(dispatcher).get(sources[0]).status_code == 200
    other = make_department("JY-ZJ", name="住建局", district=world["grids"]["district"])
    assert client_for(make_user(department=other, name="住建队员")).get(sources[0]).status_code == 404
    assert client_for(None).get(sources[0]).status_code == 404
    assert not [p for p in office_urls.urlpatterns if "photo" in str(p.pattern)]


@pytest.mark.parametrize(
    "path, status",
    [
        ("/office/dispatch/?case=²", 404),
        ("/office/dispatch/?case=99999999999999999999999", 404),
        ("/office/dispatch/?after=²~1", 400),
        ("/office/dispatch/?after=1~²", 400),
        ("/office/dispatch/?grid=²", 400),
        ("/office/dispatch/?text=²", 200),
        ("/office/dashboard/?grid=²", 404),
        ("/office/audits/?run=²", 404),
    ],
)
def test_odd_digits_in_the_url_answer_4xx_not_500(world, path, status):
    # "²".isdigit() is True in Python; int() and the database refuse it. The admin opens every screen.
    assert client_for(world["users"]["admin"]).get(path).status_code == status
