"""A small world for the officer app's tests: the small tree, an officer of grid g1 with two tasks
(a report to confirm on site and a handled case to check), an inspection point, two categories."""

from __future__ import annotations

import datetime
import io

from django.contrib.gis.geos import Point
from django.utils import timezone
from PIL import Image

from layers.incidents.models import Case, Status
from layers.incidents.services import report_case, transition
from tests.factories import small_tree
from tests.factories_estates import make_point
from tests.factories_incidents import make_category, make_user

# Inside grid g1 (105.40-105.42, 28.90-28.95), in its northern micro-grid.
CONFIRM_AT = (105.405, 28.94)
CHECK_AT = (105.415, 28.935)
POINT_AT = (105.41, 28.91)
REPORT_AT = (105.411, 28.925)


def camera_photo(width: int = 3000, height: int = 2000, color=(90, 140, 60)) -> dict:
    """A camera-sized JPEG as Playwright's set_input_files takes it (the app shrinks it to 2,048 px)."""
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, format="JPEG", quality=70)
    return {"name": "IMG_0001.jpg", "mimeType": "image/jpeg", "buffer": buffer.getvalue()}


def field_world(screen_user) -> dict:
    tree = small_tree()
    rubbish = make_category("0101", name_zh="暴露垃圾", name_en="Exposed rubbish", keywords="垃圾,rubbish")
    stalls = make_category("0102", name_zh="占道经营", name_en="Street stalls", keywords="摊点,stall")
    officer = screen_user("officer", tree["g1"], username="wang")
    dispatcher = make_user("dispatcher", name="调度员")
    now = timezone.now()

    def report(category, at, description, address):
        case, _ = report_case(
            category=category,
            point=Point(*at, srid=4326),
            input_point={"lon": at[0], "lat": at[1]},
            input_srs="EPSG:4326",
            description=description,
            address=address,
            now=now - datetime.timedelta(hours=3),
        )
        return case

    to_confirm = report(rubbish, CONFIRM_AT, "路口垃圾堆积", "滨江路 12 号")
    to_confirm = transition(
        case_id=to_confirm.pk, action="send_to_confirm", user=dispatcher, version=to_confirm.version
    )
    to_check = report(stalls, CHECK_AT, "占道摆摊", "南城街 3 号")
    # The handled case's earlier steps are not the point here: it sits at "handled", due in 20 hours.
    Case.objects.filter(pk=to_check.pk).update(
        status=Status.HANDLED, due_at=now + datetime.timedelta(hours=20), version=5
    )
    point = make_point(Point(*POINT_AT, srid=4326), name="蔬菜市场")
    return {
        "tree": tree,
        "officer": officer,
        "dispatcher": dispatcher,
        "rubbish": rubbish,
        "stalls": stalls,
        "to_confirm": Case.objects.get(pk=to_confirm.pk),
        "to_check": Case.objects.get(pk=to_check.pk),
        "point": point,
    }
