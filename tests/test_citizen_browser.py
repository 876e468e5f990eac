"""The citizen's report page (/report/) and follow page on a 360 x 740 phone, in Debian's Chromium.

A citizen reports once by place search and once by GPS (emulated geolocation): sees who will receive
it, is offered the open report nearby before sending, sends, and follows the private link to the
timeline. axe-core finds no serious or critical violation; the phone fixture (tests/browser.py) fails
the test on any request to a host but the app and on any JavaScript error.
"""

from __future__ import annotations

import datetime
import io
import re

import pytest
from django.contrib.gis.geos import Point
from django.utils import timezone
from PIL import Image

from common.photos import check_photo
from layers.grids import places
from layers.grids.models import DutyKind, Grid
from layers.incidents import services
from layers.incidents.catalogue import load_categories
from layers.incidents.models import Case, Category, FollowLink, Photo, Status
from tests.browser import assert_accessible, screenshot
from tests.factories import make_person_on_duty, tree_with_departments
from tests.factories_incidents import image_upload, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("media_root")]
METRES_PER_DEGREE_LON = 97_550  # at 28.93°N


@pytest.fixture
def world():
    grids = tree_with_departments(bureau_name="江阳区城市管理和综合执法局")
    load_categories(fixers={"urban_management": grids["cgj"], "traffic_police": grids["cgj"]})
    make_person_on_duty(grids["g1"], DutyKind.OFFICER, "李网格员", phone="13800000001")
    return grids


def camera_photo(width=3000, height=2000) -> bytes:
    """A photo as a phone camera makes it: bigger than the 2,048 px the page sends."""
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (90, 140, 60)).save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()


def east_of(point: Point, metres: float) -> Point:
    return Point(point.x + metres / METRES_PER_DEGREE_LON, point.y, srid=4326)


def existing_report(point: Point, code: str = "0101", **fields) -> Case:
    case, _ = services.report_case(
        category=Category.objects.get(code=code),
        point=point,
        input_point={},
        input_srs="EPSG:4326",
        description="<b>垃圾</b>堆在路口",  # shown as text, never as markup
        now=timezone.now() - datetime.timedelta(days=5),
        **fields,
    )
    return case


def test_a_citizen_reports_by_place_search_and_follows_the_link(phone, world, live_server):
    # The open report already there: 10 m from the point the place search gives for 白招牌社区.
    community = places.search("白招牌社区", limit=1)[0]
    nearby = existing_report(east_of(community.point, 10))
    citizen = phone()
    page = citizen.page
    page.goto(live_server.url + "/report/")
    assert page.title().startswith("我要上报")
    assert_accessible(page, context="report page, empty")
    screenshot(page, "report-01-empty")

    page.get_by_label("或搜索地点").fill("白招牌")
    result = page.locator("#place-results button.place").first
    result.wait_for()
    assert "白招牌社区" in result.inner_text() and "社区/村" in result.inner_text()
    screenshot(page, "report-02-place-search")
    result.click()

    receiver = page.locator("#receiver-text")
    receiver.filter(has_text="网格：").wait_for()
    grid = Grid.objects.smallest_covering(community.point)  # the one rule, at the point the search gave
    assert grid.name in receiver.inner_text()
    nearby_item = page.locator("#nearby-list li.nearby")
    nearby_item.first.wait_for()
    assert nearby_item.count() == 1
    assert f"编号 {nearby.pk}" in nearby_item.inner_text()
    assert "<b>垃圾</b>堆在路口" in nearby_item.inner_text()  # the description as text
    assert page.locator("#nearby-list b").count() == 0
    assert page.get_by_role("button", name=f"我也遇到：把我的上报加入编号 {nearby.pk}").is_visible()
    assert page.get_by_role("button", name=f"关注编号 {nearby.pk}，不再重复上报").is_visible()

    # Not the same problem: disorderly parking, with a photo from the camera.
    page.get_by_label("问题类别").select_option("0401")
    page.locator("#category-description").filter(has_text="机动车乱停乱放").wait_for()
    receiver.filter(has_text="责任部门：江阳区城市管理和综合执法局").wait_for()
    page.get_by_label("照片（最多 6 张）").set_input_files(
        {"name": "camera.jpg", "mimeType": "image/jpeg", "buffer": camera_photo()}
    )
    page.get_by_role("img", name="照片 1").wait_for()
    page.get_by_label("问题描述").fill("车停在盲道上 <script>alert(1)</script>")
    page.get_by_label("电话").fill("13912345678")
    assert_accessible(page, context="report page, filled in")
    screenshot(page, "report-03-filled", full_page=True)
    page.get_by_role("button", name="提交上报").click()

    sent = page.locator("#sent-card")
    sent.wait_for()
    reference = page.locator("#sent-reference").inner_text()
    case = Case.objects.get(pk=int(reference))
    assert case.category.code == "0401" and case.duplicate_of is None
    assert case.grid == grid and case.department == world["cgj"]
    assert case.reporter_phone == "13912345678"
    assert case.description == "车停在盲道上 <script>alert(1)</script>"
    photo = Photo.objects.get(case=case)
    assert (photo.width, photo.height) == (2048, 1365)  # shrunk on the phone: 3000 x 2000 → 2048 x 1365
    link = page.locator("#sent-link")
    token = FollowLink.objects.get(case=case, for_reporter=True).token
    assert link.inner_text() == f"{live_server.url}/report/follow/{token}/"
    assert_accessible(page, context="report sent")
    screenshot(page, "report-04-sent")

    link.click()
    page.wait_for_url(f"**/report/follow/{token}/")
    assert page.locator("h1").inner_text() == f"上报编号 {reference}"
    assert page.locator(".status-now").inner_text() == "已受理"
    assert page.locator(".timeline li").count() == 1 and "上报" in page.locator(".timeline li").inner_text()
    body = page.locator("main").inner_text()
    for private in ("13912345678", "李网格员", "13800000001"):
        assert private not in body
    assert_accessible(page, context="follow page")
    screenshot(page, "report-05-follow-new")


def test_a_citizen_reports_by_gps_joins_the_report_nearby_and_sees_its_progress(phone, world, live_server):
    here = Point(105.41, 28.93, srid=4326)
    original = existing_report(east_of(here, 8))
    dispatcher, handler = make_user("dispatcher", name="赵调度"), make_user(department=world["cgj"], name="钱处置员")
    for user, action, extra in (
        (dispatcher, "register", {}),
        (dispatcher, "dispatch", {}),
        (handler, "accept", {}),
        (handler, "handle", {"note": "已清理 孙师傅 13700009999", "photo": check_photo(image_upload("after.png"))}),
    ):
        version = Case.objects.get(pk=original.pk).version
        services.transition(case_id=original.pk, action=action, user=user, version=version, **extra)
    # handled is still open: the citizen may join it ("me too") until it is closed.

    citizen = phone(geolocation={"longitude": here.x, "latitude": here.y, "accuracy": 12}, permissions=["geolocation"])
    page = citizen.page
    page.goto(live_server.url + "/report/")
    page.get_by_role("button", name="使用我的位置").click()
    page.locator("#where-text").filter(has_text="误差约 12 米").wait_for()
    page.locator("#receiver-text").filter(has_text="1号楼").wait_for()
    item = page.locator("#nearby-list li.nearby")
    item.first.wait_for()
    assert "相距 8 米" in item.inner_text() and "已处置，待核查" in item.inner_text()
    screenshot(page, "report-06-gps-nearby", full_page=True)

    page.get_by_role("button", name=f"我也遇到：把我的上报加入编号 {original.pk}").click()
    assert page.get_by_label("问题类别").input_value() == "0101"
    page.locator("#me-too-banner").filter(has_text=f"编号 {original.pk}").wait_for()
    assert (
        page.get_by_role("button", name=f"我也遇到：把我的上报加入编号 {original.pk}").get_attribute("aria-pressed")
        == "true"
    )
    assert_accessible(page, context="report page, me too chosen")
    screenshot(page, "report-07-me-too", full_page=True)
    page.get_by_role("button", name="提交上报").click()
    page.locator("#sent-card").wait_for()
    assert f"编号 {original.pk}" in page.locator("#sent-joined").inner_text()
    joined = Case.objects.get(pk=int(page.locator("#sent-reference").inner_text()))
    assert joined.duplicate_of == original and joined.status == Status.DUPLICATE
    assert (joined.location.x, joined.location.y) == pytest.approx((here.x, here.y))

    page.locator("#sent-link").click()
    page.wait_for_url("**/report/follow/**")
    assert page.locator(".status-now").inner_text() == "已处置，待核查"
    steps = page.locator(".timeline li .step").all_inner_texts()
    assert steps == ["上报", "已立案", "派遣至责任部门", "责任部门开始处置", "责任部门反馈已处置"]
    assert page.get_by_role("img", name="处置后照片 1").count() == 1
    body = page.locator("main").inner_text()
    for private in ("赵调度", "钱处置员", "孙师傅", "13700009999", "李网格员"):
        assert private not in body
    assert_accessible(page, context="follow page with progress")
    screenshot(page, "report-08-follow-progress", full_page=True)


def test_follow_instead_and_a_spot_outside_every_grid_in_english(phone, world, live_server):
    outside = Point(105.52, 28.93, srid=4326)  # 2 km east of the district: no grid covers it
    there = existing_report(outside, code="0401")
    citizen = phone(
        language="en",
        geolocation={"longitude": outside.x, "latitude": outside.y, "accuracy": 20},
        permissions=["geolocation"],
    )
    page = citizen.page
    page.goto(live_server.url + "/report/")
    assert page.locator("h1").inner_text() == "Report a problem"
    page.get_by_role("button", name="Use my location").click()
    page.locator("#receiver-text").filter(has_text="No grid covers this spot").wait_for()
    assert "江阳区指挥中心" in page.locator("#receiver-text").inner_text()
    page.locator("#nearby-list li.nearby").first.wait_for()
    assert_accessible(page, context="report page in English, outside every grid")
    screenshot(page, "report-09-outside-grids-en")
    before = Case.objects.count()
    page.get_by_role("button", name=f"Follow No. {there.pk} instead of reporting").click()
    page.locator("#sent-card").wait_for()
    assert Case.objects.count() == before  # nothing new reported
    assert "nothing new was reported" in page.locator("#sent-joined").inner_text()
    link = FollowLink.objects.get(case=there, for_reporter=False)
    assert page.locator("#sent-link").inner_text().endswith(f"/report/follow/{link.token}/")
    page.locator("#sent-link").click()
    page.wait_for_url("**/report/follow/**")
    assert "The district's office" in page.locator("main").inner_text()
    screenshot(page, "report-10-follow-en")


def test_a_wrong_follow_link_is_a_404_and_trying_many_is_throttled(client, world, settings):
    assert client.get("/report/follow/not-a-token/").status_code == 404
    settings.GRIDGIS = {**settings.GRIDGIS, "THROTTLE_RATES": {**settings.GRIDGIS["THROTTLE_RATES"], "lookup": "3/min"}}
    codes = [client.get(f"/report/follow/guess-{n}/").status_code for n in range(3)]
    assert codes == [404, 404, 429]  # the first guess above counted too


def test_the_pages_carry_no_inline_script(client, world):
    existing_report(Point(105.41, 28.93, srid=4326), follow=True)
    token = FollowLink.objects.get().token
    for url in ("/report/", f"/report/follow/{token}/"):
        page = client.get(url).content.decode()
        scripts = page.count("<script")
        assert scripts == page.count('<script src="') + page.count('<script type="module" src="') + page.count(
            'type="application/json"'
        ), url
        assert re.search(r"<[^>]*\son[a-z]+\s*=", page) is None, url  # no on*= handler attributes
