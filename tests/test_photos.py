"""Photos (issue 13): cheap checks before any decoding, one downscaled decode, a pixel cap per request
and a client budget; served through a view that checks the reader's scope, under unguessable names."""

import io
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from rest_framework.test import APIClient

from common import photos
from layers.grids.models import Department
from layers.incidents.models import Photo
from tests.factories import make_department, small_tree
from tests.factories_incidents import make_category, make_user

pytestmark = pytest.mark.django_db
URL = "/api/v1/incidents/"


@pytest.fixture(autouse=True)
def world(media_root):
    grids = small_tree()
    make_department("JY-DISPATCH", kind=Department.Kind.DISPATCH_OFFICE, district=grids["district"])
    make_category("0101", default_department=make_department("JY-CGJ", district=grids["district"]))
    return grids


def jpeg(size, name="p.jpg") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 40, 40)).save(buffer, format="JPEG", quality=60)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def report(client, uploads, **body):
    data = {"category": "0101", "lon": "105.41", "lat": "28.93", **body, "photos": uploads}
    return client.post(URL, data, format="multipart")


def test_a_bad_location_is_refused_before_any_photo_is_decoded(monkeypatch):
    decoded = []
    monkeypatch.setattr(photos, "decode_once", lambda header: decoded.append(header) or None)
    monkeypatch.setattr(photos, "read_header", lambda upload: decoded.append(upload) or None)
    response = report(APIClient(), [jpeg((64, 64))], lon="-74.0", lat="40.7")
    assert response.status_code == 400 and response.json()["detail"].startswith("lon:")
    assert decoded == []  # neither a header read nor a decode for a report refused on its location


def test_the_pixels_of_all_photos_of_a_request_are_capped_from_their_headers(settings, monkeypatch):
    settings.GRIDGIS = {**settings.GRIDGIS, "PHOTO_MAX_PIXELS_PER_REQUEST": 3_000_000}
    monkeypatch.setattr(photos, "decode_once", lambda header: pytest.fail("decoded before the cap"))
    response = report(APIClient(), [jpeg((1500, 1000), f"p{n}.jpg") for n in range(3)])  # 4.5 MP in all
    assert response.status_code == 400
    assert response.json()["detail"] == "photos: 4,500,000 pixels in all, over the limit of 3,000,000 per request"


def test_a_jpeg_is_decoded_once_and_downscaled(settings):
    settings.GRIDGIS = {**settings.GRIDGIS, "PHOTO_STORED_MAX_SIDE": 500}
    big = jpeg((4000, 3000))
    started = time.process_time()
    checked = photos.check_photos([big])
    assert time.process_time() - started < 5  # a full 12 MP decode plus resize would be several times this
    assert (checked[0].width, checked[0].height) == (500, 375)  # fitted to 500 px, aspect kept
    with Image.open(io.BytesIO(checked[0].file.read())) as stored:
        assert stored.size == (500, 375)
    # draft() asked the decoder for 1/4 scale (1000 × 750 ≥ 500): what one decode produced.
    with Image.open(io.BytesIO(checked[0].original.read())) as original:
        original.draft(original.mode, (500, 500))
        assert original.size == (1000, 750)


def test_the_megapixels_count_against_the_clients_budget(settings):
    settings.GRIDGIS = {
        **settings.GRIDGIS,
        "THROTTLE_RATES": {"ip": None, "user": None, "intake": None, "photo_megapixels": "5/min"},
    }
    client = APIClient()
    assert report(client, [jpeg((2000, 1000), "a.jpg")]).status_code == 201  # 2 MP
    assert report(client, [jpeg((2000, 1000), "b.jpg")], lat="28.91").status_code == 201  # 4 MP
    refused = report(client, [jpeg((2000, 1000), "c.jpg")], lat="28.90")  # 6 MP > 5
    assert refused.status_code == 429 and refused["Retry-After"]
    assert "megapixels" in refused.json()["detail"]


def test_photos_are_served_only_to_who_may_see_the_case_originals_to_staff(settings):
    settings.GRIDGIS = {**settings.GRIDGIS, "OPEN311_PUBLIC_SOURCES": ("citizen", "open311")}
    citizen = make_user("citizen")
    mine = APIClient()
    mine.force_authenticate(citizen)
    case = report(mine, [jpeg((64, 48))]).json()
    photo = Photo.objects.get(case_id=case["id"])
    stored_name = photo.image.name.rsplit("/", 1)[-1]
    assert not stored_name.startswith("case") and len(stored_name) > 30  # random, not case<id>-report-0
    staff = APIClient()
    staff.force_authenticate(make_user("dispatcher"))
    detail = staff.get(f"{URL}{case['id']}/").json()["properties"]["photos"][0]
    assert detail["url"] == f"{URL}{case['id']}/photos/{photo.pk}/"
    public = staff.get(detail["url"])
    assert public.status_code == 200 and public["Content-Type"] == "image/jpeg"
    assert Image.open(io.BytesIO(b"".join(public.streaming_content))).size == (64, 48)
    assert staff.get(detail["original_url"]).status_code == 200
    # The citizen sees their own case's copy, not the original; its link is not even given to them.
    assert mine.get(detail["url"]).status_code == 200
    assert mine.get(detail["original_url"]).status_code == 404
    # A citizen's case is published by Open311, so anyone may see its public copy; not an officer's.
    assert APIClient().get(detail["url"]).status_code == 200
    settings.GRIDGIS = {**settings.GRIDGIS, "OPEN311_PUBLIC_SOURCES": ("open311",)}
    assert APIClient().get(detail["url"]).status_code == 404
    # Another citizen, whose scope does not hold the case, gets 404 as if there were no photo.
    other = APIClient()
    other.force_authenticate(make_user("citizen"))
    assert other.get(detail["url"]).status_code == 404
    # MEDIA_ROOT has no URL: the stored file is not reachable by its name.
    assert APIClient().get(f"/media/{photo.image.name}").status_code == 404
